import Foundation
import ScanModel
import Testing

@testable import LogParser

/// Inputs the fuzzers found that broke a parser, as plain tests (the raw files replay in FuzzRegressionTests).
@Suite struct ParserRegressionTests {
    func records(_ text: String, _ format: LogFormat) throws -> [Record] {
        let reader = LineReader(source: MemorySource(Array(text.utf8)))
        var stream = LogStream(path: "t", formatHint: format)
        var records: [Record] = []
        try reader.forEachLine { line in stream.parse(line) { records.append($0.materialize()) } }
        stream.finish { records.append($0.materialize()) }
        return records
    }

    @Test func aPropertyLineWithoutANameDoesNotCrashTheSecretMasker() throws {
        let found = try records(
            "Property(S): = hunter2\nProperty(S):  = x\nProperty(S): PASSWORD = hunter3\n", .msiVerbose)
        #expect(found.count == 3)
        #expect(!found.contains { $0.text.contains("hunter3") }, "a secret is still masked")
    }

    /// CDATA sections are text (they used to vanish), taken as written: no tags, no entities;
    /// one may span lines; a line break inside a text run separates its words.
    @Test func characterDataIsReadAsTextAndLineBreaksSeparateWords() throws {
        let found = try records(
            "<?xml version=\"1.0\"?>\n<LCSCmd><Action name=\"Activate\">\n"
                + "<Message><![CDATA[Failure [0xC3EC796C] <b>&amp; more]]></Message>\n"
                + "<Message><![CDATA[Step failed:\nError 0x80070005]]></Message>\n"
                + "<Message>Activation Failure\n[0xC3EC796C]</Message>\n</Action></LCSCmd>\n", .lcscmdXML)
        let texts = found.map(\.text)
        #expect(texts.contains("Failure [0xC3EC796C] <b>&amp; more"), "\(texts)")
        #expect(texts.contains("Step failed: Error 0x80070005"), "\(texts)")
        #expect(texts.contains("Activation Failure [0xC3EC796C]"), "\(texts)")
        #expect(found.first { $0.text.hasPrefix("Failure [0xC3EC796C]") }?.outcome?.description == "failure 0xC3EC796C")
    }

    @Test func aLessThanSignThatOpensNoTagStartsARunWithItsLine() throws {
        let found = try records("<html><body>\n<5061> is the port\n<div>x</div></body></html>\n", .deploymentHTML)
        #expect(found.allSatisfy { $0.line >= 1 })
        #expect(found.contains { $0.text.contains("<5061> is the port") && $0.line == 2 })
    }

    @Test func actionsThatNeverEndDoNotGrowTheContext() throws {
        var log = "=== Verbose logging started: 1/2/2026  10:00:00  Build type: SHIP UNICODE 3.01.4000.4042 ===\n"
        for index in 0..<10_000 { log += "Action start 10:00:01: Action\(index).\n" }
        log += "CA: Failed 0x80070005 Access is denied.\n"
        let found = try records(log, .msiVerbose)
        #expect(found.allSatisfy { $0.context.count <= MSIParser.maximumActionDepth })
        #expect(found.last?.context.first == "Action0", "the outermost action stays")
        #expect(found.last?.context.last == "Action9999", "the innermost is the latest")
    }
}
