import Foundation
import Testing

@Suite struct HelpTests {
    /// Help texts are written with line continuations in the source: none may reach the reader.
    @Test(arguments: ["scan", "rules", "report", "diff", "explain", "roles", "collect"])
    func helpHasNoLiteralBackslashes(command: String) throws {
        let outcome = try BinaryRunner.run([command, "--help"])
        #expect(outcome.status == 0)
        #expect(!outcome.standardOutput.contains(" \\\n"), "\(command) --help shows a line continuation")
    }
}
