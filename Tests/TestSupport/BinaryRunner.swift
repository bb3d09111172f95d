import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the built `ocslog` binary as a user would, capturing its output, status and peak memory.
public struct BinaryRunner {
    public struct Outcome {
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
        /// Peak resident set size of the child, in KiB (from `wait4`'s rusage).
        public let peakResidentKiB: Int
    }

    /// The package root, found from this file's path.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The binary: `$OCSLOG_BIN`, else the `ocslog` built beside the running test bundle (debug or
    /// release, whatever build folder `swift test` used; running it fails with "build it first"
    /// when it is not there).
    public static var binary: String {
        if let path = ProcessInfo.processInfo.environment["OCSLOG_BIN"] { return path }
        let running = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return running.deletingLastPathComponent().appendingPathComponent("ocslog").path
    }

    /// A fresh temporary folder for one test.
    public static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ocslog-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `ocslog arguments…` with `standardInput` (a file path, or /dev/null).
    public static func run(
        _ arguments: [String], standardInput: String = "/dev/null", environment: [String: String] = [:]
    ) throws -> Outcome {
        try spawn(binary, arguments, standardInput: standardInput, environment: environment)
    }

    /// Runs any program with `standardInput`, capturing its output, status and peak memory.
    public static func spawn(
        _ binary: String, _ arguments: [String], standardInput: String = "/dev/null",
        environment: [String: String] = [:]
    ) throws -> Outcome {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outPath = folder.appendingPathComponent("stdout").path
        let errPath = folder.appendingPathComponent("stderr").path

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, standardInput, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        for (key, value) in environment { env[key] = value }
        // The peak memory is measured by a small parent of the program's own: a child started by
        // this (large, many-threaded) test process would report this process's peak, which Linux
        // carries into the child's rusage at exec.
        let peakPath = folder.appendingPathComponent("peak").path
        let argv = ["/usr/bin/env", "python3", "-c", Self.measuringParent, peakPath, binary] + arguments
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for argument in cArguments { free(argument) }
            for variable in cEnvironment { free(variable) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, nil, cArguments, cEnvironment)
        guard spawned == 0 else {
            throw NSError(
                domain: "BinaryRunner", code: Int(spawned),
                userInfo: [
                    NSLocalizedDescriptionKey:
                        "cannot run \(binary): \(String(cString: strerror(spawned))) (build it first)"
                ])
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Outcome(
            status: exitStatus,
            standardOutput: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
            peakResidentKiB: (try? String(contentsOfFile: peakPath, encoding: .utf8)).flatMap {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            } ?? Int(usage.ru_maxrss))
    }

    /// Runs the program (inheriting standard input, output and error), writes its peak resident set
    /// size in KiB to the file named first, and ends as the program ended (its status, or its signal).
    static let measuringParent = """
        import os, signal, subprocess, sys
        child = subprocess.Popen(sys.argv[2:])
        while True:
            try:
                _, status, usage = os.wait4(child.pid, 0)
                break
            except InterruptedError:
                continue
        with open(sys.argv[1], 'w') as peak:
            peak.write(str(usage.ru_maxrss))
        if os.WIFSIGNALED(status):
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
            os.kill(os.getpid(), os.WTERMSIG(status))
        sys.exit(os.WEXITSTATUS(status))
        """
}
