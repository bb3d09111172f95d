import Foundation
import TestSupport
import Testing

/// The binary in a pseudo-terminal (util-linux `script`): progress and colour appear there, and
/// not when the streams are redirected, with --quiet, --color never or NO_COLOR.
@Suite(.serialized) struct TerminalTests {
    static let escape = "\u{1B}["

    /// A 12 MB verbose-MSI log with one failure, long enough for several progress updates.
    static func bigLog(in folder: URL) throws -> String {
        var block = "=== Verbose logging started: 1/2/2026  10:00:00  Build type: SHIP UNICODE 3.01.4000.4042 ===\n"
        block += "Action start 10:00:01: InstallFinalize.\n"
        block += "CA_Setup: Failed to open the service: 0x80070005 Access is denied.\n"
        var filler = ""
        for index in 0..<1000 {
            filler +=
                "MSI (s) (2C:48) [10:00:03:\(index % 1000)]: Executing op: ComponentRegister(ComponentId={\(index)})\n"
        }
        let path = folder.appendingPathComponent("FrontEnd-big.log").path
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.write(Data(block.utf8))
        let data = Data(filler.utf8)
        for _ in 0..<(12_000_000 / data.count) { handle.write(data) }
        try handle.close()
        return path
    }

    /// Runs a shell command line in a pseudo-terminal; returns everything the terminal showed.
    static func inTerminal(_ command: String, environment: [String: String] = [:]) throws -> BinaryRunner.Outcome {
        try BinaryRunner.spawn(
            "/usr/bin/script", ["-qfec", command, "/dev/null"],
            environment: ["OCSLOG_PROGRESS_DELAY_MS": "0", "TERM": "xterm", "NO_COLOR": ""].merging(environment) { $1 })
    }

    /// Whether `needle`'s bytes occur in `text` (a byte search: terminal output mixes CR, LF and
    /// escapes, and String's Character-based search treats CR LF as one character).
    static func has(_ text: String, _ needle: String) -> Bool {
        let haystack = Array(text.utf8)
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty, pattern.count <= haystack.count else { return pattern.isEmpty }
        for start in 0...(haystack.count - pattern.count) where haystack[start] == pattern[0] {
            if haystack[start..<(start + pattern.count)].elementsEqual(pattern) { return true }
        }
        return false
    }

    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    @Test func aTerminalShowsProgressAndColour() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = try Self.bigLog(in: folder)
        let shown = try Self.inTerminal("\(Self.quoted(BinaryRunner.binary)) scan --fail-on never \(Self.quoted(log))")
        #expect(shown.status == 0, "\(shown.standardError)")
        let screen = shown.standardOutput
        #expect(Self.has(screen, "\r\(Self.escape)K" + "ocslog: "), "a progress line redrawn in place")
        #expect(
            Self.has(screen, " lines, ") && Self.has(screen, "/s, ") && Self.has(screen, "ETA"),
            "bytes, lines, rate, ETA")
        #expect(Self.has(screen, "0/1 inputs"))
        #expect(Self.has(screen, "\(Self.escape)1;31merror\(Self.escape)0m"), "the severity in red")
        #expect(Self.has(screen, "\(Self.escape)1;36mfront-end\(Self.escape)0m"), "the role in colour")
    }

    @Test func redirectedStreamsShowNeither() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = try Self.bigLog(in: folder)
        let out = folder.appendingPathComponent("out").path
        let err = folder.appendingPathComponent("err").path
        let command =
            "\(Self.quoted(BinaryRunner.binary)) scan --fail-on never \(Self.quoted(log)) >\(Self.quoted(out)) 2>\(Self.quoted(err))"
        let shown = try Self.inTerminal(command)
        #expect(shown.status == 0)
        let output = try String(contentsOfFile: out, encoding: .utf8)
        let errors = try String(contentsOfFile: err, encoding: .utf8)
        #expect(Self.has(output, "#1 error"))
        #expect(!Self.has(output, Self.escape) && !Self.has(errors, Self.escape))
        #expect(!Self.has(errors, "lines, "), "no progress when standard error is a file")
    }

    @Test func quietNoColorAndColorNeverAreHonoured() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = try Self.bigLog(in: folder)
        let binary = Self.quoted(BinaryRunner.binary)
        let quiet = try Self.inTerminal("\(binary) scan --fail-on never --quiet --color never \(Self.quoted(log))")
        #expect(!Self.has(quiet.standardOutput, Self.escape), "no colour, no progress")
        let noColor = try Self.inTerminal(
            "\(binary) scan --fail-on never -q \(Self.quoted(log))", environment: ["NO_COLOR": "1"])
        #expect(!Self.has(noColor.standardOutput, Self.escape), "NO_COLOR")
        let always = try BinaryRunner.run(["scan", "--fail-on", "never", "--color", "always", log])
        #expect(Self.has(always.standardOutput, "\(Self.escape)1;31merror"), "--color always through a pipe")
        #expect(!Self.has(always.standardError, Self.escape), "progress only on a terminal")
    }
}
