import Foundation
import ScanModel

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a file so that readers see the old contents or the new, never half of either: the
/// text goes to a temporary file in the same folder, is flushed to disk, then renamed over the
/// target (`rename(2)` is atomic within a file system).
public enum AtomicFile {
    public static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws(WriteError) {
        let directory = (path as NSString).deletingLastPathComponent
        let folder = directory.isEmpty ? "." : directory
        let name = (path as NSString).lastPathComponent
        var template = Array("\(folder)/.\(name).ocslog-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard descriptor >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var succeeded = false
        defer {
            if !succeeded { unlink(temporary) }
        }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(descriptor, base + written, bytes.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw WriteError(path: path, reason: reason)
            }
            written += result
        }
        fchmod(descriptor, mode)
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            throw WriteError(path: path, reason: String(cString: strerror(errno)))
        }
        guard rename(temporary, path) == 0 else {
            throw WriteError(path: path, reason: String(cString: strerror(errno)))
        }
        succeeded = true
    }

    /// Writes all of `text` to standard output with write(2), or throws naming it: a full disk or
    /// a closed descriptor is an error to report, not a crash or a silent success.
    public static func standardOutput(_ text: String) throws(WriteError) {
        var text = text
        let failure = text.withUTF8 { bytes -> WriteError? in
            var written = 0
            while written < bytes.count {
                guard let base = bytes.baseAddress else { return nil }
                let result = Glibc.write(STDOUT_FILENO, base + written, bytes.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return WriteError(path: "standard output", reason: String(cString: strerror(errno)))
                }
                written += result
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Makes a folder and the folders above it; an existing folder is fine, a file in the way is not.
    public static func folder(_ path: String) throws(WriteError) {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw WriteError(path: path, reason: "it is a file, not a folder") }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path { try folder(parent) }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw WriteError(path: path, reason: String(cString: strerror(errno)))
        }
    }

    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): cannot write: \(reason)" }
    }
}
