import ScanModel
import SystemCalls

/// Writes a file so that readers see the old contents or the new, never half of either: the
/// text goes to a temporary file in the same folder, is flushed to disk, then renamed over the
/// target (`rename(2)` is atomic within a file system).
public enum AtomicFile {
    public static func write(_ text: String, to path: String, mode: UInt32 = 0o644) throws(WriteError) {
        var text = text
        let failure = text.withUTF8 { bytes -> Errno? in
            do throws(Errno) {
                try OS.replaceAtomically(path, with: UnsafeRawBufferPointer(bytes), mode: mode)
                return nil
            } catch { return error }
        }
        if let failure { throw WriteError(path: path, reason: failure.description) }
    }

    /// Writes all of `text` to standard output, or throws naming it: a full disk or a closed
    /// descriptor is an error to report, not a crash or a silent success.
    public static func standardOutput(_ text: String) throws(WriteError) {
        var text = text
        let failure = text.withUTF8 { bytes -> Errno? in
            do throws(Errno) {
                try OS.writeAll(OS.standardOutput, UnsafeRawBufferPointer(bytes))
                return nil
            } catch { return error }
        }
        if let failure { throw WriteError(path: "standard output", reason: failure.description) }
    }

    /// Makes a folder and the folders above it; an existing folder is fine, a file in the way is not.
    public static func folder(_ path: String) throws(WriteError) {
        if let status = try? OS.status(ofPath: path) {
            guard status.kind == .directory else { throw WriteError(path: path, reason: "it is a file, not a folder") }
            return
        }
        let parent = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
        if !parent.isEmpty && parent != path { try folder(parent) }
        do {
            try OS.makeFolder(path)
        } catch {
            throw WriteError(path: path, reason: error.description)
        }
    }

    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): cannot write: \(reason)" }
    }
}
