import Foundation
import Knowledge
import ScanModel
import Testing
import Yams

@testable import LogParser

/// The expectations a corpus log carries in `corpus/expected/<same path>.yaml`.
struct CorpusExpectation: Decodable {
    struct RecordCheck: Decodable {
        let line: Int
        let kind: String
        let context: [String]?
        let outcome: String?
        let number: Int?
        let rollback: Bool?
        let time: String?
        let text: String?
        let textContains: String?
        let textLacks: String?
        let source: String?
        let level: String?

        enum CodingKeys: String, CodingKey {
            case line, kind, context, outcome, number, rollback, time, text, source, level
            case textContains = "text_contains"
            case textLacks = "text_lacks"
        }
    }

    let format: String
    let encoding: String
    let lines: Int
    let records: Int
    let recordsAt: [RecordCheck]

    enum CodingKeys: String, CodingKey {
        case format, encoding, lines, records
        case recordsAt = "records_at"
    }
}

enum Corpus {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("corpus")
    static let logsRoot = root.appendingPathComponent("logs")
    /// Read as the analyzer reads: with the vocabulary that names table columns and XML fields.
    static let readOptions: ReadOptions = {
        var options = ReadOptions()
        options.vocabulary = try? KnowledgeBase.embedded().vocabulary
        options.firewall = try? KnowledgeBase.embedded().firewall
        return options
    }()
    static let expectedRoot = root.appendingPathComponent("expected")

    /// Every log in `corpus/logs`, sorted by path.
    static func logs() throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: logsRoot.path) else { return [] }
        return enumerator.compactMap { $0 as? String }
            .map { logsRoot.appendingPathComponent($0).path }
            .filter { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            }
            .sorted()
    }

    static func expectation(for path: String) throws -> CorpusExpectation? {
        let relative = String(path.dropFirst(logsRoot.path.count + 1))
        let sidecar = expectedRoot.appendingPathComponent(relative + ".yaml").path
        guard FileManager.default.fileExists(atPath: sidecar) else { return nil }
        return try YAMLDecoder().decode(CorpusExpectation.self, from: String(contentsOfFile: sidecar, encoding: .utf8))
    }

}

@Suite struct CorpusTests {
    @Test func everyCorpusLogHasExpectations() throws {
        let logs = try Corpus.logs()
        #expect(logs.count >= 14)
        for log in logs {
            #expect(try Corpus.expectation(for: log) != nil, "\(log) has no expectation in corpus/expected")
        }
    }

    @Test(arguments: try Corpus.logs())
    func parsesAsExpected(path: String) throws {
        let expected = try #require(try Corpus.expectation(for: path))
        var records: [Record] = []
        let summary = try InputFile(path: path).parse(options: Corpus.readOptions) { records.append($0.materialize()) }
        #expect(summary.format?.rawValue == expected.format)
        #expect(summary.encoding.rawValue == expected.encoding)
        #expect(summary.lines == expected.lines)
        #expect(records.count == expected.records, "records: \(records.map { "\($0.line) \($0.kind)" })")
        for check in expected.recordsAt {
            guard let record = records.first(where: { $0.line == check.line }) else {
                Issue.record("no record at line \(check.line)")
                continue
            }
            let at = "line \(check.line)"
            #expect(record.kind.rawValue == check.kind, "\(at)")
            if let context = check.context { #expect(record.context == context, "\(at)") }
            if let outcome = check.outcome { #expect(record.outcome?.description == outcome, "\(at)") }
            if let number = check.number { #expect(record.number == number, "\(at)") }
            if let rollback = check.rollback { #expect(record.inRollback == rollback, "\(at)") }
            if let time = check.time { #expect(record.time == time, "\(at)") }
            if let text = check.text { #expect(record.text == text, "\(at)") }
            if let part = check.textContains { #expect(record.text.contains(part), "\(at): \(record.text)") }
            if let part = check.textLacks { #expect(!record.text.contains(part), "\(at): \(record.text)") }
            if let source = check.source { #expect(record.event?.source == source, "\(at)") }
            if let level = check.level { #expect(record.event?.level == level, "\(at)") }
        }
    }

    /// `cat corpus/**/* | ocslog scan` must see the same records as reading the files one by one.
    /// Only logs that start with a header of their own are concatenated: an excerpt without one
    /// (a pasted MSI fragment, a console transcript) cannot be told from the end of the log before it.
    @Test func concatenatedCorpusGivesTheSameRecords() throws {
        // A file without a final line break goes last: `cat` would glue its last line to the next
        // file's first, and the next log's header would not be at a line start.
        let ordered = try Corpus.logs().sorted { lhs, rhs in
            func terminated(_ path: String) -> Bool {
                // A line feed last, in UTF-8 or UTF-16 (LE: 0A 00; BE ends with 0A).
                guard let bytes = FileManager.default.contents(atPath: path) else { return true }
                return bytes.last == 0x0A || bytes.suffix(2).elementsEqual([0x0A, 0x00])
            }
            return terminated(lhs) && !terminated(rhs)
        }
        let logs = ordered.filter { path in
            guard let data = FileManager.default.contents(atPath: path) else { return false }
            var first: [UInt8] = []
            _ = try? InputFile(path: path, contents: Array(data.prefix(8192))).read { line in
                if first.isEmpty, !Bytes.trimmed(line.buffer).isEmpty { first = Array(line.buffer) }
            }
            return first.withUnsafeBufferPointer { LogStream.logStart($0) != nil }
        }
        #expect(logs.count >= 25)
        var expected: [Record] = []
        var stream: [UInt8] = []
        var lineOffset = 0
        var byteOffset = 0
        for log in logs {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: log)))
            let summary = try InputFile(path: log).parse(options: Corpus.readOptions) { draft in
                var record = draft.materialize()
                record.path = "-"
                record.line += lineOffset
                record.byteOffset += byteOffset
                expected.append(record)
            }
            lineOffset += summary.lines
            byteOffset += bytes.count
            stream += bytes
        }
        for chunk in [7, 4096, LineReader.defaultChunkSize] {
            var records: [Record] = []
            var parser = LogStream(
                path: "-", vocabulary: Corpus.readOptions.vocabulary, firewall: Corpus.readOptions.firewall)
            let reader = LineReader(source: MemorySource(stream, chunkSize: chunk), chunkSize: chunk)
            try reader.forEachLine { line in parser.parse(line) { records.append($0.materialize()) } }
            parser.finish { records.append($0.materialize()) }
            #expect(records.count == expected.count, "chunk \(chunk)")
            for (got, want) in zip(records, expected) where got != want {
                Issue.record("chunk \(chunk): got \(got)\nwant \(want)")
                break
            }
            #expect(parser.logCount == logs.count, "chunk \(chunk): \(parser.formats)")
            #expect(Set(parser.formats).count == 6)  // MSI, HTML, XML, event text, CSV, registry export
        }
    }
}
