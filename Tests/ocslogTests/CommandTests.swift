import Foundation
import Testing

@Suite struct CommandTests {
    func write(_ bytes: [UInt8], name: String, in folder: URL) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func jsonInputs(_ output: String) throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        #expect(object?["schemaVersion"] as? Int == 1)
        return try #require(object?["inputs"] as? [[String: Any]])
    }

    @Test func crlfFromStandardInputAndUTF16WithBOMCountTheSameLines() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = try write(Array("a\r\nb".utf8), name: "plain.log", in: folder)
        let wide = try write([0xFF, 0xFE, 0x61, 0, 0x0D, 0, 0x0A, 0, 0x62, 0], name: "wide.log", in: folder)
        let fromPipe = try BinaryRunner.run(["scan", "--format", "json"], standardInput: plain)
        let fromWide = try BinaryRunner.run(["scan", "--format", "json"], standardInput: wide)
        #expect(fromPipe.status == 0)
        #expect(fromWide.status == 0)
        let pipeInput = try jsonInputs(fromPipe.standardOutput)[0]
        let wideInput = try jsonInputs(fromWide.standardOutput)[0]
        #expect(pipeInput["path"] as? String == "-")
        #expect(pipeInput["lines"] as? Int == 2)
        #expect(wideInput["lines"] as? Int == 2)
        #expect(pipeInput["encoding"] as? String == "utf-8")
        #expect(wideInput["encoding"] as? String == "utf-16le")
    }

    @Test func foldersAreReadRecursivelyInNameOrderAndMissingPathsReported() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("b/c"), withIntermediateDirectories: true)
        _ = try write(Array("one\n".utf8), name: "b/c/z.log", in: folder)
        _ = try write(Array("one\ntwo\n".utf8), name: "a.log", in: folder)
        let outcome = try BinaryRunner.run(["scan", "--format", "json", folder.path, folder.path + "/missing.log"])
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains("missing.log: no such file or directory"))
        let inputs = try jsonInputs(outcome.standardOutput)
        #expect(
            inputs.map { ($0["path"] as? String ?? "").replacingOccurrences(of: folder.path, with: "") } == [
                "/a.log", "/b/c/z.log",
            ])
        #expect(inputs.map { $0["lines"] as? Int ?? -1 } == [2, 1])
    }

    @Test func oneFiftyMebibyteLineIsReadInBoundedMemory() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("long.log").path
        // 50 MiB of one line, then a short one, written in pieces.
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let piece = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<50 { handle.write(piece) }
        handle.write(Data("\nshort line\n".utf8))
        try handle.close()
        let outcome = try BinaryRunner.run(["scan", "--format", "json", path])
        #expect(outcome.status == 0)
        let input = try jsonInputs(outcome.standardOutput)[0]
        #expect(input["lines"] as? Int == 2)
        let skipped = try #require(input["skipped"] as? [String: Any])
        #expect(skipped["longLines"] as? Int == 1)
        #expect(skipped["bytes"] as? Int == 49 << 20)
        #expect(outcome.peakResidentKiB < 64 * 1024, "peak RSS \(outcome.peakResidentKiB) KiB")
    }

    @Test func plannedSubcommandsSaySoAndExitTwo() throws {
        for command in [["rules"], ["report"], ["explain", "0xC3EC796C"], ["roles"]] {
            let outcome = try BinaryRunner.run(command)
            #expect(outcome.status == 2, "\(command)")
            #expect(outcome.standardError.contains("not implemented yet"), "\(command)")
            #expect(outcome.standardOutput.isEmpty, "\(command)")
        }
    }

    @Test func versionAndHelp() throws {
        let version = try BinaryRunner.run(["--version"])
        #expect(version.status == 0)
        #expect(version.standardOutput.hasPrefix("0."))
        let help = try BinaryRunner.run(["scan", "--help"])
        #expect(help.status == 0)
        #expect(help.standardOutput.contains("cat *.log | ocslog scan"))
    }

    @Test func unknownEncodingIsAUsageError() throws {
        let outcome = try BinaryRunner.run(["scan", "--encoding", "ebcdic"])
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains("unknown encoding 'ebcdic'"))
    }
}
