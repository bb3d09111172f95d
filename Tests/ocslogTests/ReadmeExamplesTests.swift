import Foundation
import TestSupport
import Testing

/// The README's examples are real: every ```console block's `$ ocslog …` commands are run from
/// the package root and their standard output must equal the text the README shows under them.
@Suite struct ReadmeExamplesTests {
    struct Example: CustomStringConvertible {
        var command: String
        var expected: String
        var description: String { command }
    }

    static func examples() throws -> [Example] {
        let readme = try String(
            contentsOf: BinaryRunner.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var examples: [Example] = []
        var inConsole = false
        var current: Example?
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if !inConsole {
                if line == "```console" { inConsole = true }
                continue
            }
            if line == "```" || line.hasPrefix("$ ") {
                if let example = current { examples.append(example) }
                current = nil
                if line == "```" {
                    inConsole = false
                    continue
                }
                current = Example(command: String(line.dropFirst(2)), expected: "")
                continue
            }
            current?.expected += line + "\n"
        }
        return examples
    }

    @Test func theReadmeHasExamplesOfEachMainUse() throws {
        let commands = try Self.examples().map(\.command)
        for use in ["ocslog scan", "ocslog rules", "ocslog report", "ocslog explain", "ocslog roles"] {
            #expect(commands.contains { $0.contains(use) }, "an example of \(use)")
        }
    }

    @Test(arguments: try examples())
    func readmeExampleOutputIsTrue(example: Example) throws {
        #expect(example.command.hasPrefix("ocslog ") || example.command.contains("| ocslog "))
        let binaryFolder = URL(fileURLWithPath: BinaryRunner.binary).deletingLastPathComponent().path
        let script = "cd \(BinaryRunner.packageRoot.path) && PATH=\(binaryFolder):$PATH; \(example.command)"
        let outcome = try BinaryRunner.spawn("/bin/sh", ["-c", script], environment: ["NO_COLOR": "1"])
        #expect(outcome.standardOutput == example.expected, "`\(example.command)` printed:\n\(outcome.standardOutput)")
    }
}
