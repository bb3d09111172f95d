import Foundation
import TestSupport
import Testing

@Suite struct HelpTests {
    /// Help texts are written with line continuations in the source: none may reach the reader.
    @Test(arguments: ["scan", "rules", "report", "diff", "explain", "roles", "collect"])
    func helpHasNoLiteralBackslashes(command: String) throws {
        let outcome = try BinaryRunner.run([command, "--help"])
        #expect(outcome.status == 0)
        #expect(!outcome.standardOutput.contains("\\\n"), "\(command) --help shows a line continuation")
    }
}

@Suite struct TypedOptionTests {
    /// Options with a closed list of values are typed: help lists the values, a wrong one is a
    /// usage error (status 2) naming them, and the synonyms each type reads still work.
    @Test func closedListsAreListedInHelpAndCheckedByTheParser() throws {
        let scan = try BinaryRunner.run(["scan", "--help"])
        #expect(scan.standardOutput.contains("utf-16le"))
        #expect(scan.standardOutput.contains("netsh-config"))
        let rules = try BinaryRunner.run(["rules", "--help"])
        #expect(rules.standardOutput.contains("values: accept, drop"))
        for arguments in [
            ["scan", "--encoding", "ebcdic"], ["scan", "--format-hint", "pdf"], ["rules", "--policy", "reject"],
            ["report", "--format", "pdf"], ["diff", "a", "b", "--format", "pdf"],
        ] {
            let outcome = try BinaryRunner.run(arguments)
            #expect(outcome.status == 2, "\(arguments): \(outcome.status)")
            #expect(outcome.standardError.contains("value"), "\(arguments): \(outcome.standardError)")
        }
        let edge = BinaryRunner.packageRoot.appendingPathComponent("corpus/logs/edge").path
        #expect(try BinaryRunner.run(["scan", "--encoding", "cp1252", "--fail-on", "never", edge]).status == 0)
        #expect(try BinaryRunner.run(["report", "--format", "markdown", edge]).status == 0)
    }
}
