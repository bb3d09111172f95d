// The one file that talks to the operating system: every open, read, write, stat, wait, signal
// and rename ocslog makes goes through here. Descriptors, paths and errors are swift-system's
// (`FileDescriptor`, `FilePath`, `Errno`) where it has the call; the rest (poll, directories,
// signals, terminals, temporary files) are made here, on Linux (glibc), the one platform
// ocslog claims.

import Synchronization
// Callers see the errors as swift-system's `Errno` (its cases and words) without importing it.
@_exported import SystemPackage

#if canImport(Glibc)
    import Glibc
#else
    #error("ocslog builds on Linux (glibc) only")
#endif

/// Calls to the operating system.
public enum OS {
    /// Standard input, output and error.
    public static let standardInput: Int32 = STDIN_FILENO
    public static let standardOutput: Int32 = STDOUT_FILENO
    public static let standardError: Int32 = STDERR_FILENO

    /// The system's words for an error number ("No such file or directory").
    public static func describe(_ code: Int32) -> String { Errno(rawValue: code).description }

    // MARK: - Files

    /// Opens a file for reading (closed on exec).
    public static func openForReading(_ path: String) throws(Errno) -> Int32 {
        do {
            return try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec], retryOnInterrupt: true)
                .rawValue
        } catch { throw error as? Errno ?? .ioError }
    }

    /// Closes a descriptor; errors on close are not actionable for a reader and are ignored.
    public static func close(_ descriptor: Int32) { try? FileDescriptor(rawValue: descriptor).close() }

    /// Reads up to `buffer.count` bytes; 0 at the end. `Errno.interrupted` is thrown, not retried,
    /// so that a reader can end on Ctrl-C.
    public static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        do {
            return try FileDescriptor(rawValue: descriptor).read(into: buffer, retryOnInterrupt: false)
        } catch { throw error as? Errno ?? .ioError }
    }

    /// Writes all of `bytes` (retrying short writes and interruptions).
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        do {
            _ = try FileDescriptor(rawValue: descriptor).writeAll(bytes)
        } catch { throw error as? Errno ?? .ioError }
    }

    /// Writes a message to standard error; a failure there has nowhere to be reported and is ignored.
    public static func writeError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in try? writeAll(standardError, UnsafeRawBufferPointer(bytes)) }
    }

    /// A whole file's bytes (for small files: the knowledge, a topology, a scan result).
    public static func readFile(_ path: String) throws(Errno) -> [UInt8] {
        let descriptor = try openForReading(path)
        defer { close(descriptor) }
        if try status(of: descriptor).kind == .directory { throw Errno.isDirectory }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer -> Result<Int, Errno> in
                while true {
                    do throws(Errno) {
                        return .success(try read(descriptor, into: buffer))
                    } catch .interrupted {
                        continue
                    } catch {
                        return .failure(error)
                    }
                }
            }
            let got = try count.get()
            if got == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<got])
        }
    }

    /// Moves a descriptor's position back to the start.
    public static func rewind(_ descriptor: Int32) throws(Errno) {
        do {
            _ = try FileDescriptor(rawValue: descriptor).seek(offset: 0, from: .start)
        } catch { throw error as? Errno ?? .ioError }
    }

    /// What a path or descriptor is.
    public struct Status: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case regular, directory, link, fifo, socket, device, other }
        public var kind: Kind
        public var size: Int
        /// The device and inode: the file's identity (a file replaced under its name has another).
        public var identity: Identity

        public struct Identity: Sendable, Equatable {
            public var device: UInt64
            public var inode: UInt64
        }

        init(_ info: Glibc.stat) {
            switch info.st_mode & S_IFMT {
            case S_IFREG: kind = .regular
            case S_IFDIR: kind = .directory
            case S_IFLNK: kind = .link
            case S_IFIFO: kind = .fifo
            case S_IFSOCK: kind = .socket
            case S_IFCHR, S_IFBLK: kind = .device
            default: kind = .other
            }
            size = Int(info.st_size)
            identity = Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        }
    }

    /// The status of an open descriptor.
    public static func status(of descriptor: Int32) throws(Errno) -> Status {
        var info = Glibc.stat()
        guard fstat(descriptor, &info) == 0 else { throw Errno(rawValue: errno) }
        return Status(info)
    }

    /// The status of a path: of the link itself when `followingLinks` is false.
    public static func status(ofPath path: String, followingLinks: Bool = true) throws(Errno) -> Status {
        var info = Glibc.stat()
        let result = followingLinks ? stat(path, &info) : lstat(path, &info)
        guard result == 0 else { throw Errno(rawValue: errno) }
        return Status(info)
    }

    /// The names in a folder (without `.` and `..`), in the order the file system gives them.
    public static func folderEntries(_ path: String) throws(Errno) -> [String] {
        guard let directory = opendir(path) else { throw Errno(rawValue: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Makes one folder; an existing one is not an error.
    public static func makeFolder(_ path: String) throws(Errno) {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw Errno(rawValue: errno) }
    }

    /// Writes `bytes` to a new file beside `path`, flushes it to disk and renames it over `path`:
    /// readers see the old contents or the new, never half of either (`rename(2)` is atomic
    /// within a file system). Nothing is left behind on failure.
    public static func replaceAtomically(_ path: String, with bytes: UnsafeRawBufferPointer, mode: UInt32) throws(Errno)
    {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(folder.isEmpty ? "/" : folder)/.\(name).ocslog-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard descriptor >= 0 else { throw Errno(rawValue: errno) }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var open = true
        do throws(Errno) {
            try writeAll(descriptor, bytes)
            // The mode is a courtesy: a file system without modes (vfat, a CIFS share) refuses it.
            _ = fchmod(descriptor, mode_t(mode))
            guard fsync(descriptor) == 0 else { throw Errno(rawValue: errno) }
            open = false
            guard Glibc.close(descriptor) == 0 else { throw Errno(rawValue: errno) }
            guard rename(temporary, path) == 0 else { throw Errno(rawValue: errno) }
        } catch {
            if open { Glibc.close(descriptor) }
            unlink(temporary)
            throw error
        }
    }

    /// Writes a scratch file (created or truncated, not flushed to disk): for temporary files only.
    public static func writeScratch(_ path: String, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Errno(rawValue: errno) }
        defer { Glibc.close(descriptor) }
        try writeAll(descriptor, bytes)
    }

    /// Removes a file; a missing one is not an error.
    public static func remove(_ path: String) { unlink(path) }

    /// This process's id (for names of temporary files).
    public static var processID: Int32 { getpid() }

    // MARK: - Waiting

    /// Waits at most `milliseconds` for a descriptor to have bytes (or its end): whether it does.
    /// `Errno.interrupted` is thrown so that the caller can end on Ctrl-C.
    public static func waitForInput(_ descriptor: Int32, milliseconds: Int32) throws(Errno) -> Bool {
        var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&request, 1, milliseconds)
        guard ready >= 0 else { throw Errno(rawValue: errno) }
        return ready > 0
    }

    /// Sleeps (an interrupting signal ends it early).
    public static func sleep(milliseconds: Int32) {
        var pause = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        nanosleep(&pause, nil)
    }

    // MARK: - Terminals and signals

    /// Whether a descriptor is a terminal.
    public static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

    /// The interruption signal received (0: none).
    private static let received = Atomic<Int32>(0)

    /// The signal (SIGINT, SIGTERM) received since ``catchInterruptions()``, or nil.
    public static var interruption: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// Catches Ctrl-C (SIGINT) and SIGTERM: the handler only notes the signal. Installed without
    /// `SA_RESTART`, so that a blocked `read(2)` or `poll(2)` returns `EINTR` and the reader sees it;
    /// both are unblocked (a parent may have started the process with them blocked).
    public static func catchInterruptions() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { OS.received.store($0, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }
}
