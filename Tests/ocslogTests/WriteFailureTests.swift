import Foundation
import TestSupport
import Testing

/// Every write is checked — standard output included — and a failure ends the command with
/// status 2 and a sentence naming the path: no crash, no silent success, no raw error domain.
@Suite struct WriteFailureTests {
    static let edge = BinaryRunner.packageRoot.appendingPathComponent("corpus/logs/edge").path

    static let commands: [[String]] = [
        ["scan", edge], ["scan", "--format", "json", edge], ["scan", "--format", "jsonl", edge],
        ["scan", "--records", edge], ["rules", edge], ["rules", "--target", "firewalld", edge],
        ["report", edge], ["report", "--format", "html", edge], ["roles"], ["roles", "--format", "json"],
        ["explain", "0xC3EC796C"], ["diff", edge, edge], ["collect", "--shell", "cmd"],
    ]

    @Test(arguments: commands)
    func aFullStandardOutputEndsWithStatusTwoAndASentence(arguments: [String]) throws {
        let quoted = ([BinaryRunner.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let outcome = try BinaryRunner.spawn("/bin/sh", ["-c", "\(quoted) > /dev/full"])
        #expect(outcome.status == 2, "\(arguments): status \(outcome.status): \(outcome.standardError)")
        #expect(
            outcome.standardError.contains("ocslog: standard output: cannot write: No space left on device"),
            "\(arguments): \(outcome.standardError)")
        #expect(!outcome.standardError.contains("Fatal error"), "\(arguments)")
    }

    @Test func aFileThatCannotBeWrittenEndsWithStatusTwoNamingIt() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("no/such/folder/x").path
        for arguments in [
            ["scan", Self.edge, "--nft", missing], ["scan", Self.edge, "--iptables", missing],
            ["scan", Self.edge, "--report", missing + ".md"], ["rules", Self.edge, "-o", missing],
            ["report", Self.edge, "-o", missing + ".html"],
        ] {
            let outcome = try BinaryRunner.run(arguments)
            #expect(outcome.status == 2, "\(arguments): \(outcome.status)")
            #expect(
                outcome.standardError.contains("ocslog: \(folder.path)/no/such/folder/x"), "\(outcome.standardError)")
            #expect(outcome.standardError.contains("cannot write: No such file or directory"))
            #expect(!outcome.standardError.contains("Error:"), "\(arguments): \(outcome.standardError)")
        }
        // firewalld writes a folder: a file in the way is named, not a raw error domain.
        let file = folder.appendingPathComponent("fw.xml").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let firewalld = try BinaryRunner.run(["rules", Self.edge, "--target", "firewalld", "-o", file])
        #expect(firewalld.status == 2)
        #expect(firewalld.standardError.contains("\(file): cannot write: it is a file, not a folder"))
        #expect(!firewalld.standardError.contains("NSCocoaErrorDomain"))
    }
}
