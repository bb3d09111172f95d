import Foundation
import ScanModel

#if canImport(Glibc)
    import Glibc
#endif

/// One input named on the command line, or found in a folder named there.
public struct InputFile: Sendable, Equatable {
    /// The path as the user will recognise it (`-` for standard input).
    public let path: String
    /// The input's bytes when it is held in memory (tests, generated logs); nil reads `path`.
    public let contents: [UInt8]?
    /// Whether the file is followed as it grows (`--follow`): read until the scan is interrupted.
    public var follows = false

    public init(path: String) {
        self.path = path
        contents = nil
    }

    /// An input held in memory, named `path` in evidence.
    public init(path: String, contents: [UInt8]) {
        self.path = path
        self.contents = contents
    }

    /// Standard input.
    public static let standardInput = InputFile(path: "-")

    /// A file followed as it grows (`scan --follow`), like `tail -F`.
    public static func following(_ path: String) -> InputFile {
        var input = InputFile(path: path)
        input.follows = true
        return input
    }

    public var isStandardInput: Bool { path == "-" }

    /// Opens the input for reading; the caller closes the descriptor.
    public func open() throws(InputError) -> FileDescriptorSource {
        if isStandardInput { return FileDescriptorSource(descriptor: STDIN_FILENO, path: path) }
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw InputError.system(path, "cannot open", errno) }
        var info = stat()
        if fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            close(descriptor)
            throw InputError(path: path, reason: "is a directory", errno: EISDIR)
        }
        return FileDescriptorSource(descriptor: descriptor, path: path)
    }

    /// Expands paths into inputs: files as given, folders recursively in name order, no paths as
    /// standard input. Paths that do not exist come back as errors; the rest are still returned.
    public static func expand(_ paths: [String]) -> (inputs: [InputFile], errors: [InputError]) {
        if paths.isEmpty { return ([.standardInput], []) }
        var inputs: [InputFile] = []
        var errors: [InputError] = []
        let fileManager = FileManager.default
        for path in paths {
            if path == "-" {
                inputs.append(.standardInput)
                continue
            }
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                errors.append(
                    InputError(
                        path: path, reason: "no such file or directory (check the path; a folder is read recursively)",
                        errno: ENOENT))
                continue
            }
            guard isDirectory.boolValue else {
                inputs.append(InputFile(path: path))
                continue
            }
            let (found, problems) = walk(path)
            inputs.append(contentsOf: found)
            errors.append(contentsOf: problems)
        }
        return (inputs, errors)
    }

    /// The error for a folder entry that is not a file: what it is, and that it was not read.
    private static func notAFile(_ path: String, _ mode: mode_t) -> InputError {
        let kind: String =
            switch mode & S_IFMT {
            case S_IFIFO: "a FIFO"
            case S_IFSOCK: "a socket"
            case S_IFCHR, S_IFBLK: "a device"
            default: "not a regular file"
            }
        return InputError(path: path, reason: "\(kind), not a log file: not read (name it on its own to read it)")
    }

    /// The regular files under a folder, sorted by path; symbolic links to folders are not followed.
    private static func walk(_ root: String) -> ([InputFile], [InputError]) {
        var files: [String] = []
        var errors: [InputError] = []
        var pending = [root]
        while let folder = pending.popLast() {
            guard let directory = opendir(folder) else {
                errors.append(InputError.system(folder, "cannot read folder", errno))
                continue
            }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let child = folder.hasSuffix("/") ? folder + name : folder + "/" + name
                var info = stat()
                guard lstat(child, &info) == 0 else {
                    errors.append(InputError.system(child, "cannot inspect", errno))
                    continue
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: pending.append(child)
                case S_IFREG: files.append(child)
                case S_IFLNK:
                    // Follow links to files, never links to folders (no loops through folders).
                    var target = stat()
                    if stat(child, &target) != 0 {
                        errors.append(InputError.system(child, "cannot follow the link", errno))
                    } else if target.st_mode & S_IFMT == S_IFREG {
                        files.append(child)
                    } else if target.st_mode & S_IFMT != S_IFDIR {
                        errors.append(Self.notAFile(child, target.st_mode))
                    }
                default:
                    // A FIFO would block the scan, a socket or device is no log: named, not read.
                    errors.append(Self.notAFile(child, info.st_mode))
                }
            }
        }
        return (files.sorted().map(InputFile.init(path:)), errors)
    }
}
