import Foundation
import TestSupport
import Testing

/// Every call to the operating system is made in `Sources/SystemCalls/SystemCalls.swift`: no
/// other file of the tool opens, reads, stats, waits, signals or renames by itself. Only files that
/// use C library helpers that are no system calls (`memchr`, `memcmp`, `inet_pton`) may import Glibc,
/// and those are checked for calls too. (The fuzzing entry point and the benchmarks are tools of
/// their own, outside this rule.)
@Suite struct SystemBoundaryTests {
    /// Named ways to the system, and bare C calls (no `.` or `func` before). `open`, `read`, `write`
    /// and `close` are left to the `Glibc.` form: the tool's own methods share those names.
    static let named = [
        "Glibc.", "Darwin.", "FileManager.", "FileHandle.", "contentsOfFile:", "Data(contentsOf:", ".write(to:",
        "posix_spawn",
    ]
    static let bareCall = try! NSRegularExpression(
        pattern: #"(?<![\w.])(?<!func )(stat|fstat|lstat|fstatat|opendir|readdir|closedir|poll|nanosleep|sigaction|"#
            + #"signal|isatty|mkstemp|fsync|rename|unlink|mkdir|lseek|getpid|kill|strerror|pipe|dup2|fcntl)\((?!\))"#)

    /// The files that may import Glibc, for C library helpers.
    static let libraryHelpers: Set<String> = [
        "PCRE2/Pattern.swift", "LogParser/Analysis/RoleResolver.swift", "LogParser/Firewall/FirewallRule.swift",
        "LogParser/Input/LineReader.swift", "RuleGen/RulePlan.swift",
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
            if text.contains("import Glibc"), !Self.libraryHelpers.contains(relative) {
                found.append("\(relative): imports Glibc")
            }
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for call in Self.named where code.contains(call) { found.append("\(relative):\(number + 1): \(call)") }
                let text = String(code)
                if let match = Self.bareCall.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) {
                    found.append("\(relative):\(number + 1): \((text as NSString).substring(with: match.range))")
                }
            }
        }
        #expect(found.isEmpty, "system calls outside \(boundary):\n\(found.joined(separator: "\n"))")
    }
}
