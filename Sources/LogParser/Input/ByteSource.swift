import ScanModel
import SystemCalls

/// A stream of bytes read in pieces: a file descriptor, or memory in tests.
public protocol ByteSource {
    /// Reads up to `buffer.count` bytes into `buffer`; returns 0 at the end of the stream.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int
    /// Reads like ``read(into:)``; a live source returns nil when no byte came for `milliseconds`.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer, waitingAtMost milliseconds: Int32)
        throws(InputError) -> Int?
    /// How many times the source began a new file (a followed file truncated or replaced).
    var restarts: Int { get }
}

extension ByteSource {
    public var restarts: Int { 0 }
}

/// Why an input could not be read.
public struct InputError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The input's path (`-` for standard input).
    public let path: String
    /// What went wrong, in words.
    public let reason: String
    /// The `errno` value, when a system call failed.
    public let errno: Int32?

    public init(path: String, reason: String, errno: Int32? = nil) {
        self.path = path
        self.reason = reason
        self.errno = errno
    }

    public var description: String { "\(path): \(reason)" }

    static func system(_ path: String, _ action: String, _ code: Int32) -> InputError {
        InputError(path: path, reason: "\(action): \(OS.describe(code))", errno: code)
    }
}

/// Bytes read with `read(2)` from a file descriptor: a regular file, a pipe or standard input.
public struct FileDescriptorSource: ByteSource {
    /// The descriptor read from.
    public let descriptor: Int32
    /// The name used in messages (`-` for standard input).
    public let path: String

    public init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            do {
                return try OS.read(descriptor, into: buffer)
            } catch .interrupted {
                if Interruption.isRequested { return 0 }  // Ctrl-C: the input ends here
            } catch {
                throw InputError.system(path, "read failed", error.rawValue)
            }
        }
    }
}

/// Bytes from memory, handed out at most `chunkSize` at a time (to test every chunking).
public struct MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0
    /// The most bytes one `read` returns.
    public let chunkSize: Int

    public init(_ bytes: [UInt8], chunkSize: Int = .max) {
        self.bytes = bytes
        self.chunkSize = max(1, chunkSize)
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        let count = min(buffer.count, chunkSize, bytes.count - position)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            guard let from = source.baseAddress, let to = buffer.baseAddress else { return }
            to.copyMemory(from: from + position, byteCount: count)
        }
        position += count
        return count
    }
}
