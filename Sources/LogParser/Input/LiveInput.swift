import ScanModel
import SystemCalls

/// Ctrl-C while live logs are read: the handler only sets a flag, the sources see it when their
/// `read(2)` or wait is interrupted and end the input, so the scan finishes with what it read.
public enum Interruption {
    /// Whether Ctrl-C (SIGINT) or SIGTERM was received since ``install()``.
    public static var isRequested: Bool { OS.interruption != nil }

    /// The signal that was received, for the exit status (128 + its number), or nil.
    public static var signal: Int32? { OS.interruption }

    /// Installs the handler (without `SA_RESTART`, so a blocked `read(2)` returns `EINTR`).
    public static func install() { OS.catchInterruptions() }
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
        while true {
            if Interruption.isRequested { return 0 }
            let ready: Bool
            do {
                ready = try OS.waitForInput(descriptor, milliseconds: milliseconds)
            } catch .interrupted {
                continue
            } catch {
                throw InputError.system(path, "poll failed", error.rawValue)
            }
            guard ready else { return nil }
            return try read(into: buffer)
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
    /// The file's device and inode (another file replaced under its name has others).
    private var identity: OS.Status.Identity
    /// How often the file is looked at while nothing new is in it.
    static let pollInterval: Int32 = 100
    /// How many times the file began again (truncated or replaced); the reader starts a new log.
    public private(set) var restarts = 0
    /// Says what happened to the file (truncated, replaced, gone), for a note on standard error.
    public var onChange: ((String) -> Void)?

    public init(path: String) throws(InputError) {
        self.path = path
        let opened: Int32
        let status: OS.Status
        do {
            opened = try OS.openForReading(path)
        } catch {
            throw InputError.system(path, "cannot open", error.rawValue)
        }
        do {
            status = try OS.status(of: opened)
        } catch {
            OS.close(opened)
            throw InputError.system(path, "cannot stat", error.rawValue)
        }
        guard status.kind == .regular else {
            OS.close(opened)
            throw InputError(path: path, reason: "--follow reads a regular file", errno: Errno.invalidArgument.rawValue)
        }
        descriptor = opened
        identity = status.identity
    }

    /// Closes the file being read (the one reopened last, when it was replaced); once.
    public func close() {
        if descriptor >= 0 { OS.close(descriptor) }
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
        guard buffer.count > 0, descriptor >= 0 else { return 0 }
        var waited: Int32 = 0
        while true {
            if Interruption.isRequested { return 0 }
            let count: Int
            do {
                count = try OS.read(descriptor, into: buffer)
            } catch .interrupted {
                continue
            } catch {
                throw InputError.system(path, "read failed", error.rawValue)
            }
            if count > 0 {
                position += count
                return count
            }
            // At the end: has the file been cut short, or replaced under its name?
            if let current = try? OS.status(ofPath: path) {
                if current.identity != identity {
                    if let reopened = try? OS.openForReading(path) {
                        OS.close(descriptor)
                        descriptor = reopened
                        identity = current.identity
                        position = 0
                        restarts += 1
                        onChange?("\(path) was replaced; reading the new file from its start")
                        continue
                    }
                } else if current.size < position {
                    try? OS.rewind(descriptor)
                    position = 0
                    restarts += 1
                    onChange?("\(path) was truncated; reading it again from its start")
                    continue
                }
            }
            if waited >= milliseconds { return nil }
            OS.sleep(milliseconds: Self.pollInterval)
            waited += Self.pollInterval
        }
    }
}
