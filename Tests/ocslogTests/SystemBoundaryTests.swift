import Foundation
import TestSupport
import Testing

/// Every call to the operating system is made in `Sources/SystemCalls/SystemCalls.swift`: no
/// other source file opens, reads, stats, waits, signals or renames by itself (C library helpers
/// such as `memchr` and `inet_pton` are not system calls and stay where they are used).
@Suite struct SystemBoundaryTests {
    static let calls = [
        "Glibc.open(", "Glibc.read(", "Glibc.write(", "Glibc.close(", " fstat(", " lstat(", "fstatat(", "opendir(",
        "readdir(", " poll(", "nanosleep(", "sigaction(", "isatty(", "mkstemp(", "fsync(", " rename(", " unlink(",
        " mkdir(", " lseek(", "getpid(", "FileManager.", "FileHandle.", "contentsOfFile:", "strerror(",
    ]

    @Test func systemCallsAreMadeInOneFile() throws {
        let sources = BinaryRunner.packageRoot.appendingPathComponent("Sources")
        let boundary = "SystemCalls/SystemCalls.swift"
        var found: [String] = []
        let walker = try #require(FileManager.default.enumerator(atPath: sources.path))
        for case let relative as String in walker where relative.hasSuffix(".swift") && relative != boundary {
            // The fuzzing entry point and its targets run under libFuzzer, outside the tool.
            if relative.hasPrefix("ocslog-fuzz/") { continue }
            let text = try String(contentsOf: sources.appendingPathComponent(relative), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for call in Self.calls where code.contains(call) { found.append("\(relative):\(number + 1): \(call)") }
            }
        }
        #expect(found.isEmpty, "system calls outside \(boundary):\n\(found.joined(separator: "\n"))")
    }
}
