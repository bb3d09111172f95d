import ScanModel
import SystemCalls

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
        if isStandardInput { return FileDescriptorSource(descriptor: OS.standardInput, path: path) }
        let descriptor: Int32
        do {
            descriptor = try OS.openForReading(path)
        } catch {
            throw InputError.system(path, "cannot open", error.rawValue)
        }
        if (try? OS.status(of: descriptor))?.kind == .directory {
            OS.close(descriptor)
            throw InputError(path: path, reason: "is a directory", errno: Errno.isDirectory.rawValue)
        }
        return FileDescriptorSource(descriptor: descriptor, path: path)
    }

    /// Expands paths into inputs: files as given, folders recursively in name order, no paths as
    /// standard input. Paths that do not exist come back as errors; the rest are still returned.
    public static func expand(_ paths: [String]) -> (inputs: [InputFile], errors: [InputError]) {
        if paths.isEmpty { return ([.standardInput], []) }
        var inputs: [InputFile] = []
        var errors: [InputError] = []
        for path in paths {
            if path == "-" {
                inputs.append(.standardInput)
                continue
            }
            guard let status = try? OS.status(ofPath: path) else {
                errors.append(
                    InputError(
                        path: path, reason: "no such file or directory (check the path; a folder is read recursively)",
                        errno: Errno.noSuchFileOrDirectory.rawValue))
                continue
            }
            guard status.kind == .directory else {
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
    private static func notAFile(_ path: String, _ kind: OS.Status.Kind) -> InputError {
        let kind: String =
            switch kind {
            case .fifo: "a FIFO"
            case .socket: "a socket"
            case .device: "a device"
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
            let names: [String]
            do {
                names = try OS.folderEntries(folder)
            } catch {
                errors.append(InputError.system(folder, "cannot read folder", error.rawValue))
                continue
            }
            for name in names {
                let child = folder.hasSuffix("/") ? folder + name : folder + "/" + name
                let status: OS.Status
                do {
                    status = try OS.status(ofPath: child, followingLinks: false)
                } catch {
                    errors.append(InputError.system(child, "cannot inspect", error.rawValue))
                    continue
                }
                switch status.kind {
                case .directory: pending.append(child)
                case .regular: files.append(child)
                case .link:
                    // Follow links to files, never links to folders (no loops through folders).
                    do {
                        let target = try OS.status(ofPath: child)
                        if target.kind == .regular {
                            files.append(child)
                        } else if target.kind != .directory {
                            errors.append(Self.notAFile(child, target.kind))
                        }
                    } catch {
                        errors.append(InputError.system(child, "cannot follow the link", error.rawValue))
                    }
                default:
                    // A FIFO would block the scan, a socket or device is no log: named, not read.
                    errors.append(Self.notAFile(child, status.kind))
                }
            }
        }
        return (files.sorted().map(InputFile.init(path:)), errors)
    }
}
