import Foundation
import Knowledge
import ScanModel
import TestSupport
import Testing

/// A long line costs its length, not its length squared: lines of a megabyte built from every
/// signature's samples, the prefilter words, digit runs and an entry's words, each scanned by the
/// binary under a time limit proportional to its size (a hang is killed and fails). A 600 KB
/// "Added firewall exception AAAA…" line once ran for more than 30 s, 5 MB for ten minutes: the
/// program-path pattern retried a long word from every position.
@Suite struct LongRecordTests {
    /// Seconds allowed per megabyte in a debug build on a loaded two-core machine: linear work
    /// takes one to ten (prose is read word by word), a quadratic pattern thousands.
    static let secondsPerMegabyte = 60
    static let megabyte = 1 << 20

    /// The built-in knowledge (a load failure fails the test that reads it).
    static var knowledge: KnowledgeBase { get throws { try Fixtures.knowledge() } }

    /// `pieces` repeated (each followed by a space) up to `bytes`, as one line.
    static func line(_ pieces: [String], bytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes + 1)
        var index = 0
        while out.count < bytes {
            out += Array(pieces[index % pieces.count].utf8).filter { $0 != 0x0A && $0 != 0x0D }
            out.append(0x20)
            index += 1
        }
        return Array(out.prefix(bytes)) + [0x0A]
    }

    /// Scans `text` as a file under `timeout`; fails on a hang or an error status.
    static func scan(_ name: String, _ text: [UInt8], megabytes: Int = 1, extra: [String] = []) throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("long.log").path
        try Data(text).write(to: URL(fileURLWithPath: path))
        let outcome = try AdversarialTests.run(
            ["scan", "--format", "json", "--fail-on", "never", path] + extra,
            seconds: megabytes * secondsPerMegabyte)
        #expect(
            outcome.status == 0,
            "\(name): status \(outcome.status) (137: killed after \(megabytes * secondsPerMegabyte) s)")
    }

    static let sampled = ((try? knowledge)?.signatures ?? []).filter { !$0.samples.isEmpty }.map(\.id)

    @Test(arguments: sampled)
    func aSignaturesSamplesOnAMegabyteLineTakeTimeInProportion(signature id: String) throws {
        let samples = try #require(Self.knowledge.signatures.first { $0.id == id }).samples.map(\.text)
        // The samples repeated; then the first sample and one word as long as the rest.
        try Self.scan("\(id) repeated", Self.line(samples, bytes: Self.megabyte))
        let filler = String(repeating: "A", count: Self.megabyte - 200)
        try Self.scan("\(id) + letters", Self.line([samples[0] + " " + filler], bytes: Self.megabyte))
    }

    @Test func prefilterWordsDigitsAndEntriesOnAMegabyteLineTakeTimeInProportion() throws {
        let words = try Self.knowledge.prefilterWords
        let megabyte = Self.megabyte
        let shapes: [(String, [String])] = [
            ("prefilter words", words),
            ("prefilter words run together", [words.joined()]),
            ("a port word and digits", ["firewall exception port " + String(repeating: "5", count: megabyte)]),
            ("ports listed", ["firewall exception ports 5061,"]),
            ("an entry and letters", ["Added firewall exception " + String(repeating: "A", count: megabyte)]),
            // Every drive letter starts a path: a run of them must not be read from each one.
            (
                "an entry and drive letters",
                ["Added firewall exception program " + String(repeating: "c:\\", count: megabyte / 3)]
            ),
            (
                "an entry and short paths",
                ["Added firewall exception program " + String(repeating: "c:\\x ", count: megabyte / 5)]
            ),
            (
                "an entry and UNC roots",
                ["Added firewall exception program " + String(repeating: "\\\\a\\", count: megabyte / 4)]
            ),
        ]
        for (name, pieces) in shapes { try Self.scan(name, Self.line(pieces, bytes: megabyte)) }
    }

    /// Ten megabytes of one entry line, in each format the reader may take it for: the line is cut
    /// at the reader's limit (1 MiB), and the rest skipped and counted, in time.
    @Test(arguments: ["", "msi", "html", "event"])
    func tenMegabytesOfOneEntryTakeTimeInProportion(hint: String) throws {
        let text =
            Array("Added firewall exception ".utf8) + [UInt8](repeating: 0x41, count: 10 * Self.megabyte) + [0x0A]
        // (The reader cuts the line at 1 MiB: the time allowed is that of one megabyte.)
        try Self.scan("10 MB \(hint)", text, megabytes: 1, extra: hint.isEmpty ? [] : ["--format-hint", hint])
    }
}

/// Parsers hold at most a bounded record: a 30 MB description or a CSV quote that never closes
/// is cut at the limit, said in `skipped`, and the scan stays under 64 MiB (it peaked at 321 MB).
@Suite struct BoundedRecordTests {
    static func scan(_ text: String, name: String) throws -> (BinaryRunner.Outcome, [String: Any]) {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let outcome = try AdversarialTests.run(["scan", "--format", "json", "--fail-on", "never", path], seconds: 300)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        return (outcome, document)
    }

    static func repeated(_ line: String, megabytes: Int) -> String {
        String(repeating: line, count: megabytes * (1 << 20) / line.utf8.count)
    }

    @Test func aThirtyMegabyteDescriptionIsCutInBoundedMemory() throws {
        let text =
            "Event[0]:\n  Log Name: Application\n  Source: OCS Server\n  Event ID: 12345\n  Level: Error\n"
            + "  Description:\n"
            + Self.repeated("  the description goes on with more words to fill space\n", megabytes: 30)
            + "Event[1]:\n  Log Name: Application\n  Source: OCS Server\n  Event ID: 12346\n  Level: Error\n"
            + "  Description:\n  Failure [0xC3EC796C]\n"
        let (outcome, document) = try Self.scan(text, name: "events.txt")
        #expect(outcome.peakResidentKiB < 64 * 1024, "peak RSS \(outcome.peakResidentKiB) KiB")
        let skipped = try AdversarialTests.skipped(document)
        #expect(skipped["recordsCut"] as? Int == 1)
        #expect(skipped["recordBytesCut"] as? Int ?? 0 > 25_000_000)
        #expect(AdversarialTests.findings(document).contains { $0["code"] as? String == "0xC3EC796C" })
    }

    @Test func aCSVQuoteThatNeverClosesIsGivenOutAtTheLimitAndTheRestIsRead() throws {
        let text =
            "Level,Date and Time,Source,Event ID,Task Category\n"
            + "Error,1/1/2010 10:00:00 AM,MSSQLSERVER,17058,\"Server unbalanced\n"
            + Self.repeated(
                "Information,1/1/2010 10:00:00 AM,OCS Server,12345,None,Some text for the event\n", megabytes: 30)
            + "Error,1/1/2010 10:00:00 AM,OCS Server,12345,None,Failure [0xC3EC796C]\n"
        let (outcome, document) = try Self.scan(text, name: "events.csv")
        #expect(outcome.peakResidentKiB < 64 * 1024, "peak RSS \(outcome.peakResidentKiB) KiB")
        #expect(try AdversarialTests.skipped(document)["recordsCut"] as? Int == 1)
        #expect(AdversarialTests.findings(document).contains { $0["code"] as? String == "0xC3EC796C" })
    }
}

/// An event CSV whose quote never closes, shorter than the row limit: the quote's line is a row
/// of its own and every line after it is read as the row it is (its finding, on its own line).
@Suite struct UnbalancedQuoteTests {
    @Test func aQuoteThatNeverClosesLosesNoRowAfterIt() throws {
        let text =
            "Level,Date and Time,Source,Event ID,Task Category,Message\n"
            + "Error,1/1/2010 10:00:00 AM,MSSQLSERVER,17058,None,\"Server unbalanced\n"
            + "Information,1/1/2010 10:00:01 AM,OCS Server,12300,None,Service started\n"
            + "Error,1/1/2010 10:00:02 AM,OCS Server,12345,None,Activation failed: Failure [0xC3EC796C]\n"
            + "Information,1/1/2010 10:00:03 AM,OCS Server,12301,None,Service stopped\n"
        let (_, document) = try BoundedRecordTests.scan(text, name: "events.csv")
        let finding = try #require(AdversarialTests.findings(document).first { $0["code"] as? String == "0xC3EC796C" })
        let evidence = try #require((finding["evidence"] as? [[String: Any]])?.first)
        #expect(evidence["line"] as? Int == 4)
        #expect(try AdversarialTests.skipped(document)["endedInsideRecord"] as? Bool == true)
    }
}

/// A pattern that gives up at PCRE2's match limit is said per input, like every thing not read.
@Suite struct MatchLimitTests {
    /// A knowledge folder with one signature whose pattern backtracks without end on `error aa…a!b`
    /// (nested repetition before a character that is there but never where it is wanted).
    static func slowPatternKnowledge(in folder: URL) throws -> URL {
        let knowledge = folder.appendingPathComponent("knowledge")
        try FileManager.default.createDirectory(at: knowledge, withIntermediateDirectories: true)
        try """
        signatures:
          - id: slow-pattern
            type: error
            title: a pattern that backtracks without end
            pattern: '(?i)error (?:a+)+b'
            samples: ["error aab"]
        """.write(to: knowledge.appendingPathComponent("slow.yaml"), atomically: true, encoding: .utf8)
        return knowledge
    }

    @Test func anAbandonedMatchIsCountedInSkipped() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let knowledge = try Self.slowPatternKnowledge(in: folder)
        let log = folder.appendingPathComponent("slow.log").path
        try "error \(String(repeating: "a", count: 40))!b\nfine\n".write(toFile: log, atomically: true, encoding: .utf8)
        let json = try AdversarialTests.run(["scan", "--format", "json", "--knowledge", knowledge.path, log])
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        #expect(try AdversarialTests.skipped(document)["matchesAbandoned"] as? Int == 1)
        let text = try AdversarialTests.run(["scan", "--knowledge", knowledge.path, log])
        #expect(text.standardOutput.contains("1 pattern match abandoned at the match limit"))
        // Without the slow pattern nothing is abandoned, and the field stays out of the JSON.
        let plain = try AdversarialTests.run(["scan", "--format", "json", log])
        #expect(!plain.standardOutput.contains("matchesAbandoned"))
    }

    /// In a file of several logs, a cut record and an abandoned match are counted on the log that
    /// held them, not on the last.
    @Test func cutsAndAbandonedMatchesLandOnTheirOwnLog() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let knowledge = try Self.slowPatternKnowledge(in: folder)
        let msi = { (time: String, line: String) in
            "=== Verbose logging started: 1/1/2010  \(time)  Build type: SHIP UNICODE 3.01.4000.4042 ===\n"
                + "MSI (s) (A8:5C) [\(time):100]: \(line)\n"
        }
        let events =
            "Event[0]:\n  Log Name: Application\n  Source: OCS Server\n  Event ID: 12345\n  Level: Error\n"
            + "  Description:\n" + String(repeating: "  a description far longer than any event's\n", count: 3000)
        let text =
            msi("10:00:00", "error \(String(repeating: "a", count: 40))!b") + events
            + msi("11:00:00", "Doing action: INSTALL")
        let log = folder.appendingPathComponent("three.log").path
        try text.write(toFile: log, atomically: true, encoding: .utf8)
        let json = try AdversarialTests.run(["scan", "--format", "json", "--knowledge", knowledge.path, log])
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
        let inputs = try #require(document["inputs"] as? [[String: Any]])
        #expect(inputs.count == 3, "\(inputs.map { $0["format"] ?? "" })")
        let skipped = inputs.map { $0["skipped"] as? [String: Any] ?? [:] }
        #expect(skipped.map { $0["matchesAbandoned"] as? Int } == [1, nil, nil])
        #expect(skipped.map { $0["recordsCut"] as? Int } == [nil, 1, nil])
    }
}
