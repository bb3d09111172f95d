import ScanModel
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Ctrl-C while live logs are read: the handler only sets a flag, the sources see it when their
/// `read(2)` or wait is interrupted and end the input, so the scan finishes with what it read.
public enum Interruption {
    /// The signal received (0: none).
    private static let received = Atomic<Int32>(0)

    /// Whether Ctrl-C (SIGINT) or SIGTERM was received since ``install()``.
    public static var isRequested: Bool { received.load(ordering: .relaxed) != 0 }

    /// The signal that was received, for the exit status (128 + its number), or nil.
    public static var signal: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// Installs the handler (`sigaction(2)` without `SA_RESTART`, so a blocked `read(2)` returns `EINTR`).
    public static func install() {
        var action = sigaction()
        #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = { Interruption.received.store($0, ordering: .relaxed) }
        #else
            action.__sigaction_u.__sa_handler = { Interruption.received.store($0, ordering: .relaxed) }
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        // A parent may have started us with them blocked (the mask is inherited): Ctrl-C must reach us.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }
}

extension ByteSource {
    /// Reads like ``read(into:)``; a live source returns nil when no byte came for `milliseconds`,
    /// so that a reader can complete what it holds. Sources that never wait just read.
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer, waitingAtMost milliseconds: Int32)
        throws(InputError) -> Int?
    {
        try read(into: buffer)
    }
}

extension FileDescriptorSource {
    /// Waits with `poll(2)` for at most `milliseconds` before reading: nil when nothing came (a
    /// quiet pipe, `tail -f`); 0 at the end of input or when the scan was interrupted.
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer, waitingAtMost milliseconds: Int32)
        throws(InputError) -> Int?
    {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            if Interruption.isRequested { return 0 }
            let ready = poll(&request, 1, milliseconds)
            if ready == 0 { return nil }
            if ready > 0 { return try read(into: buffer) }
            let code = errno
            if code == EINTR { continue }
            throw InputError.system(path, "poll failed", code)
        }
    }
}

/// A log file that is still being written (`ocslog scan --follow FILE`): read to its end, then
/// waited on for more, like `tail -F`. A file cut shorter than what was read (truncated) is read
/// again from its start, and a file replaced under its name (rotated, re-created) is reopened;
/// either way what follows is a new log. Ends only when the scan is interrupted.
public final class FollowingSource: ByteSource {
    public let path: String
    private var descriptor: Int32
    private var position = 0
    private var identity: (device: UInt64, inode: UInt64)
    /// How often the file is looked at while nothing new is in it.
    static let pollInterval: Int32 = 100
    /// How many times the file began again (truncated or replaced); the reader starts a new log.
    public private(set) var restarts = 0
    /// Says what happened to the file (truncated, replaced, gone), for a note on standard error.
    public var onChange: ((String) -> Void)?

    public init(path: String) throws(InputError) {
        self.path = path
        let opened = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else { throw InputError.system(path, "cannot open", errno) }
        var info = stat()
        guard fstat(opened, &info) == 0 else {
            let code = errno
            Glibc.close(opened)
            throw InputError.system(path, "cannot stat", code)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(opened)
            throw InputError(path: path, reason: "--follow reads a regular file", errno: EINVAL)
        }
        descriptor = opened
        identity = (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// Closes the file being read (the one reopened last, when it was replaced); once.
    public func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    deinit { close() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        while true {
            if let count = try read(into: buffer, waitingAtMost: 1000) { return count }
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, waitingAtMost milliseconds: Int32)
        throws(InputError) -> Int?
    {
        guard let base = buffer.baseAddress, buffer.count > 0, descriptor >= 0 else { return 0 }
        var waited: Int32 = 0
        while true {
            if Interruption.isRequested { return 0 }
            let count = Glibc.read(descriptor, base, buffer.count)
            if count > 0 {
                position += count
                return count
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw InputError.system(path, "read failed", code)
            }
            // At the end: has the file been cut short, or replaced under its name?
            var current = stat()
            if fstatat(AT_FDCWD, path, &current, 0) == 0 {
                if (UInt64(current.st_dev), UInt64(current.st_ino)) != identity {
                    let reopened = Glibc.open(path, O_RDONLY | O_CLOEXEC)
                    if reopened >= 0 {
                        Glibc.close(descriptor)
                        descriptor = reopened
                        identity = (UInt64(current.st_dev), UInt64(current.st_ino))
                        position = 0
                        restarts += 1
                        onChange?("\(path) was replaced; reading the new file from its start")
                        continue
                    }
                } else if Int(current.st_size) < position {
                    lseek(descriptor, 0, SEEK_SET)
                    position = 0
                    restarts += 1
                    onChange?("\(path) was truncated; reading it again from its start")
                    continue
                }
            }
            if waited >= milliseconds { return nil }
            var pause = timespec(tv_sec: 0, tv_nsec: Int(Self.pollInterval) * 1_000_000)
            nanosleep(&pause, nil)
            waited += Self.pollInterval
        }
    }
}
