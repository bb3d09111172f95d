import Foundation
import Knowledge
import LogParser
import Report
import ScanModel
import TestSupport
import Testing

@testable import RuleGen

/// `cat FILES | ocslog scan` must find what `ocslog scan FILES` finds: each log of a stream is read
/// afresh (format, role, server, step and action context, first errors), so exceptions, findings
/// with their roles, servers and rank order, the report's role table and the rulesets are the same —
/// only paths, line numbers and names a folder's other logs supply differ.
@Suite struct StreamEqualsFilesTests {
    /// A corpus log: its name and bytes, whether it announces its own start in a stream, and whether
    /// it says where it ends. (An oracle kept apart from the parser: what a log's first and last
    /// lines look like.)
    struct Log {
        let name: String
        let bytes: [UInt8]
        let announcesItself: Bool
        let endsItself: Bool
    }

    static func corpusLogs() throws -> [Log] {
        let root = RuleFixtures.logs.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        let names = enumerator.compactMap { $0 as? String }.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }
        return try names.sorted().map { name in
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: root + "/" + name)))
            return Log(
                name: name, bytes: bytes, announcesItself: Self.announcesItself(bytes),
                endsItself: Self.endsItself(name: name, bytes: bytes))
        }
    }

    /// The log's first lines as text (UTF-16 with a byte-order mark decoded; others read as Latin-1).
    static func firstLines(_ bytes: [UInt8], _ count: Int) -> [String] {
        let text: String
        if bytes.starts(with: [0xFF, 0xFE]) {
            let prefix = Array(bytes.prefix(4096).dropFirst(2))
            let units = stride(from: 0, to: prefix.count - 1, by: 2).map {
                UInt16(prefix[$0]) | UInt16(prefix[$0 + 1]) << 8
            }
            text = String(decoding: units, as: UTF16.self)
        } else {
            text = String(bytes.prefix(4096).map { Character(Unicode.Scalar($0)) })
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.prefix(count).map { $0 }
    }

    static func announcesItself(_ bytes: [UInt8]) -> Bool {
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF])
            || bytes.starts(with: [0xEF, 0xBB, 0xBF])
        {
            return true
        }
        let lines = firstLines(bytes, 2)
        guard let first = lines.first else { return false }
        let headers = ["<?xml", "<!DOCTYPE", "<html", "Event[0]:", "Level,Date and Time", "TimeCreated "]
        if headers.contains(where: { first.lowercased().hasPrefix($0.lowercased()) }) { return true }
        // An MSI header: "=== Verbose logging started: 3/2/2010 …" (a date after the colon; a script's
        // "=== Step 1: …" banner is none).
        if first.hasPrefix("=== "), let colon = first.range(of: ": "),
            first[colon.upperBound...].first?.isNumber == true
        {
            return true
        }
        // A PowerShell transcript: a ruler, then its header line.
        return first.allSatisfy { $0 == "*" } && lines.count > 1
            && (lines[1].lowercased().contains("transcript start") || lines[1].contains("Aufzeichnung"))
    }

    static func endsItself(name: String, bytes: [UInt8]) -> Bool {
        let lower = name.lowercased()
        if lower.hasSuffix(".html") || lower.hasSuffix(".xml") { return true }
        return firstLines(bytes, 1).first.map { $0.allSatisfy { $0 == "*" } } ?? false
    }

    /// An order in which every log's start can be told: a log without a header of its own comes
    /// first or right after a log that says where it ends (plain text after plain text is one log
    /// to any reader; README "Streams").
    static func placeable(_ logs: [Log], random: inout SeededRandom) -> [Log] {
        // A file without a final line break glues its last line to the next file's first (as `cat`
        // does): the next log's header is then not at a line start. Such files go last.
        func terminated(_ log: Log) -> Bool {
            log.bytes.last == 0x0A || log.bytes.suffix(2).elementsEqual([0x0A, 0x00])  // UTF-8/BE, or UTF-16LE
        }
        let unterminated = logs.filter { !terminated($0) }
        let logs = logs.filter(terminated)
        var order = logs.filter(\.announcesItself)
        order.shuffle(using: &random)
        var headerless = logs.filter { !$0.announcesItself }
        headerless.shuffle(using: &random)
        if let first = headerless.first {
            order.insert(first, at: 0)
            headerless.removeFirst()
        }
        for log in headerless {
            let slots = order.indices.filter { index in
                order[index].endsItself && (index + 1 == order.count || order[index + 1].announcesItself)
            }
            guard let slot = slots.randomElement(using: &random) else { continue }
            order.insert(log, at: slot + 1)
        }
        return order + unterminated
    }

    /// What must be equal, without paths and line numbers.
    struct Comparable: Equatable, CustomStringConvertible {
        var inputs: [String]
        var exceptions: [String]
        var findings: [String]
        var roles: [String]
        var report: [String]
        var rules: [String]

        var description: String {
            [inputs, exceptions, findings, roles, report, rules].map { $0.joined(separator: "\n") }
                .joined(separator: "\n--\n")
        }
    }

    static func comparable(_ result: ScanResult) throws -> Comparable {
        let knowledge = try RuleFixtures.knowledge
        let document = ReportDocument(result: result, knowledge: knowledge, generator: "test")
        let plan = RulePlan.build(from: result, knowledge: knowledge, options: RuleOptions())
        return Comparable(
            inputs: result.inputs.map { "\($0.format) \($0.role) \($0.server ?? "-") \($0.title ?? "-")" },
            exceptions: result.exceptions.map {
                "\($0.server ?? "-") \($0.role) \($0.protocol)/\($0.portFrom)-\($0.portTo) \($0.interface?.rawValue ?? "-") "
                    + "\($0.origin) \($0.program ?? "-") \($0.service ?? "-") \($0.note ?? "-")"
            },
            findings: result.findings.map {
                "#\($0.rank) \($0.severity) \($0.server ?? "-") \($0.role) \($0.code ?? "-") \($0.title) ×\($0.count) "
                    + "\($0.knownIssue ?? "-") \($0.consequence) \($0.causeRank.map(String.init) ?? "-") \($0.score)"
            },
            roles: result.summary.roles.map(\.rawValue) + (result.summary.servers ?? []),
            report: document.roles.map {
                "\($0.name) \($0.status) \($0.errors) \($0.warnings) \($0.exceptionsFromLogs) \($0.documentedCovered)"
            } + [document.verdict.rawValue],
            rules: plan.chains.map { chain in
                chain.name + ": "
                    + chain.elements.map {
                        "\($0.transport)/\($0.range.lowerBound.rawValue)-\($0.range.upperBound.rawValue)"
                    }
                    .joined(separator: " ")
            } + plan.warnings)
    }

    /// Scans the logs as files (each in a folder of its own and named `log`: no server from a sibling,
    /// no role from a file name — a stream has neither) and as one stream.
    static func scanBothWays(_ logs: [Log]) throws -> (files: ScanResult, stream: ScanResult) {
        let files = Analyzer(knowledge: try RuleFixtures.knowledge)
        for (index, log) in logs.enumerated() {
            try files.analyze(InputFile(path: "f\(index)/log", contents: log.bytes))
        }
        let stream = Analyzer(knowledge: try RuleFixtures.knowledge)
        try stream.analyze(InputFile(path: "-", contents: Array(logs.map(\.bytes).joined())))
        return (files.result(), stream.result())
    }

    @Test func theWholeCorpusInNameOrderAndShuffled() throws {
        let logs = try Self.corpusLogs()
        #expect(logs.count >= 60)
        // Most logs announce themselves; the rest are placed where a reader can tell them apart.
        #expect(logs.filter(\.announcesItself).count * 10 >= logs.count * 8)
        let seed = ProcessInfo.processInfo.environment["OCSLOG_STREAM_SEED"].flatMap(UInt64.init) ?? 0x5EED_0016
        var random = SeededRandom(state: seed)
        let orders =
            [Self.placeable(logs, random: &random)] + (0..<3).map { _ in Self.placeable(logs, random: &random) }
        for (number, order) in orders.enumerated() {
            #expect(order.count == logs.count, "order \(number): every log placed")
            let (files, stream) = try Self.scanBothWays(order)
            #expect(stream.inputs.count == order.count, "order \(number) (seed \(seed))")
            #expect(stream.inputs.allSatisfy { $0.path == "-" && $0.log != nil })
            let want = try Self.comparable(files)
            let got = try Self.comparable(stream)
            #expect(got == want, "order \(number) (seed \(seed)): \(Self.firstDifference(got, want))")
        }
    }

    @Test func randomSubsetsInRandomOrders() throws {
        let logs = try Self.corpusLogs()
        let seed = ProcessInfo.processInfo.environment["OCSLOG_STREAM_SEED"].flatMap(UInt64.init) ?? 0xC0FFEE
        var random = SeededRandom(state: seed)
        for number in 0..<12 {
            let size = Int.random(in: 2...12, using: &random)
            let subset = Array(logs.shuffled(using: &random).prefix(size))
            let order = Self.placeable(subset, random: &random)
            let (files, stream) = try Self.scanBothWays(order)
            let names = order.map(\.name).joined(separator: ", ")
            #expect(stream.inputs.count == order.count, "subset \(number) (seed \(seed)): \(names)")
            let want = try Self.comparable(files)
            let got = try Self.comparable(stream)
            #expect(got == want, "subset \(number) (seed \(seed)): \(names)\n\(Self.firstDifference(got, want))")
        }
    }

    /// The first line that differs, for a readable failure.
    static func firstDifference(_ got: Comparable, _ want: Comparable) -> String {
        let gotLines = got.description.split(separator: "\n", omittingEmptySubsequences: false)
        let wantLines = want.description.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(gotLines.count, wantLines.count) {
            let left = index < gotLines.count ? String(gotLines[index]) : "(none)"
            let right = index < wantLines.count ? String(wantLines[index]) : "(none)"
            if left != right { return "line \(index + 1):\n  stream: \(left)\n  files:  \(right)" }
        }
        return "(equal)"
    }

    @Test func evidenceNamesTheLogOfTheStream() throws {
        let logs = try Self.corpusLogs().filter(\.announcesItself)
        let edge = try #require(logs.first { $0.name.hasPrefix("edge/") })
        let frontEnd = try #require(logs.first { $0.name.hasPrefix("front-end/") })
        let (_, stream) = try Self.scanBothWays([frontEnd, edge])
        #expect(stream.inputs.map(\.log) == [1, 2])
        #expect(stream.inputs[1].firstLine == stream.inputs[0].lines + 1)
        // The offset is the log's first line's: after its byte-order mark, which is no text.
        let mark = edge.bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        #expect(stream.inputs[1].offset == frontEnd.bytes.count + mark)
        let edgeException = try #require(stream.exceptions.first { $0.role == "edge" })
        #expect(edgeException.evidence.log == 2)
        #expect(edgeException.evidence.location.hasPrefix("-#2:"))
        #expect(stream.inputs[1].name.hasPrefix("-#2 ("))
    }
}
