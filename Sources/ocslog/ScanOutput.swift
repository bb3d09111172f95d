import Foundation
import Knowledge
import LogParser
import Report
import RuleGen
import ScanModel

/// The human-readable scan summary: per role, its exceptions and findings.
enum ScanText {
    static func render(_ result: ScanResult, style: Style = Style(enabled: false)) -> String {
        var output = ""
        let lines = result.inputs.reduce(0) { $0 + $1.lines }
        output += "ocslog scan: \(result.inputs.count) input\(result.inputs.count == 1 ? "" : "s"), \(lines) lines; "
        output += "\(result.summary.exceptions) firewall exception\(result.summary.exceptions == 1 ? "" : "s"), "
        output += "\(result.summary.errors) error\(result.summary.errors == 1 ? "" : "s"), "
        output += "\(result.summary.warnings) warning\(result.summary.warnings == 1 ? "" : "s")\n"
        for group in result.serverRoles {
            let exceptions = result.exceptions.filter { $0.role == group.role && $0.server == group.server }
            let findings = result.findings.filter { $0.role == group.role && $0.server == group.server }
            output += "\n\(group.heading(roleName: style.role(group.role)))\n"
            if !exceptions.isEmpty {
                output += "  firewall exceptions:\n"
                for exception in exceptions {
                    var line = "    \(exception.protocol)/\(exception.ports)"
                    if let interface = exception.interface { line += " (\(interface))" }
                    if let service = exception.service ?? exception.rule { line += "  \(service)" }
                    if let program = exception.program {
                        line += "  \(program.split(separator: "\\").last.map(String.init) ?? program)"
                    }
                    if let remote = exception.remote { line += "  from \(remote.joined(separator: ","))" }
                    let origin =
                        switch exception.origin {
                        case .log: ""
                        case .firewall: "firewall; "
                        case .documented: "documented; "
                        }
                    line += "  [\(origin)\(exception.evidence.location)]"
                    output += line + "\n"
                }
            }
            if !findings.isEmpty {
                output += "  findings:\n"
                var fixesShown = Set<String>()
                for finding in findings {
                    var line = "    #\(finding.rank) \(style.severity(finding.severity))"
                    if let code = finding.code { line += " \(code)" }
                    line += ": \(finding.title)"
                    if finding.count > 1 { line += " (×\(finding.count))" }
                    if let issue = finding.knownIssue { line += " — \(issue)" }
                    line += "\n      at \(finding.evidence[0].location)"
                    if finding.consequence { line += " (consequence of an earlier failure)" }
                    for also in finding.evidence.dropFirst(finding.count > 1 ? 2 : 1) {
                        line += "\n      and \(also.text.map { "\($0) " } ?? "")at \(also.location)"
                    }
                    // Each known issue's fix once per role, at its first (highest-ranked) finding.
                    if let fix = finding.fix, fixesShown.insert(finding.knownIssue ?? fix).inserted {
                        line += "\n      fix: \(fix)"
                    }
                    output += line + "\n"
                }
            }
        }
        let notes = result.firewallRules ?? []
        if !notes.isEmpty {
            let shown = 30
            output +=
                "\nfirewall rules read that no ruleset carries (\(notes.count + (result.firewallRulesLeftOut ?? 0))):\n"
            for note in notes.prefix(shown) {
                output += "  \(note.server.map { "\($0): " } ?? "")\(note.status): \(note.rule) (\(note.summary)) — "
                output += "\(note.reason) [\(note.evidence.location)]\n"
            }
            let more = notes.count - min(notes.count, shown) + (result.firewallRulesLeftOut ?? 0)
            if more > 0 { output += "  … and \(more) more (--format json lists \(notes.count))\n" }
        }
        let notUnderstood = result.inputs.filter { $0.notUnderstood > 0 }
        if !notUnderstood.isEmpty {
            output += "\nnot understood (see --explain): "
            output += notUnderstood.map { "\($0.name): \($0.notUnderstood) line\($0.notUnderstood == 1 ? "" : "s")" }
                .joined(separator: ", ")
            output += "\n"
        }
        output += "\ninputs:\n"
        for input in result.inputs {
            var line =
                "  \(input.name): \(input.formats.isEmpty ? "empty" : input.formats.map(\.rawValue).joined(separator: "+"))"
            if input.logs > 1 { line += " (\(input.logs) logs)" }
            line +=
                ", \(input.encodings?.joined(separator: "+") ?? input.encoding), \(input.lines) lines, role \(input.role)"
            if let server = input.server { line += ", server \(server)" }
            if input.skipped.longLines > 0 { line += "; \(input.skipped.longLines) long lines cut" }
            if input.skipped.windows1252Lines > 0 {
                line += "; \(input.skipped.windows1252Lines) lines read as windows-1252"
            }
            if input.skipped.undecodable > 0 { line += "; \(input.skipped.undecodable) undecodable characters" }
            if input.skipped.binaryBytes > 0 { line += "; \(input.skipped.binaryBytes) NUL bytes (binary data)" }
            if input.skipped.endedInsideRecord { line += "; ended inside a record (cut off?)" }
            if let records = input.skipped.recordsCut {
                let dropped = input.skipped.recordBytesCut ?? 0
                line +=
                    "; \(records) record\(records == 1 ? "" : "s") cut at the size limit"
                    + (dropped > 0 ? " (\(dropped) bytes dropped)" : "")
            }
            if let abandoned = input.skipped.matchesAbandoned {
                line += "; \(abandoned) pattern match\(abandoned == 1 ? "" : "es") abandoned at the match limit"
            }
            output += line + "\n"
        }
        return output
    }
}

/// The scan result as one JSON document.
/// Streams events as JSON lines (`--format jsonl`) and explanations (`--explain`) as they are found.
final class EventPrinter {
    let format: Scan.OutputFormat
    let explain: Bool
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The first line that could not be written (the scan goes on; the command then fails with it).
    private(set) var failure: AtomicFile.WriteError?

    /// Writes one line to standard output, remembering the first failure.
    func writeLine(_ text: String) {
        guard failure == nil else { return }
        do {
            try AtomicFile.standardOutput(text + "\n")
        } catch {
            failure = error
        }
    }
    /// Whether findings and exceptions are printed as text lines as they are found (live, on a terminal).
    let liveText: Bool

    /// (Lines go out as they are found, live or not: each is one write(2), never buffered.)
    init(format: Scan.OutputFormat, explain: Bool, liveText: Bool = false) {
        self.format = format
        self.explain = explain
        self.liveText = liveText
    }

    private struct Line: Encodable {
        var type: String
        var exception: FirewallException?
        var severity: Severity?
        var role: RoleID?
        var code: String?
        var title: String?
        var evidence: Evidence?
        var signature: String?
    }

    func print(_ event: ScanEvent) {
        if explain { printExplanation(event) }
        if liveText { printLive(event) }
        guard format == .jsonl else { return }
        let line: Line
        switch event {
        case .exception(let exception, let signature):
            line = Line(type: "exception", exception: exception, signature: signature)
        case .finding(let severity, let role, let code, let title, let evidence, let signature):
            line = Line(
                type: "finding", severity: severity, role: role, code: code, title: title, evidence: evidence,
                signature: signature)
        case .notUnderstood(let evidence):
            line = Line(type: "not-understood", evidence: evidence)
        }
        emit(line)
    }

    func printSummary(_ result: ScanResult) {
        struct SummaryLine: Encodable {
            let type = "summary"
            let summary: ScanResult.Summary
            let inputs: [InputResult]
        }
        if let data = try? encoder.encode(SummaryLine(summary: result.summary, inputs: result.inputs)) {
            writeLine(String(decoding: data, as: UTF8.self))
        }
    }

    private func emit(_ line: some Encodable) {
        if let data = try? encoder.encode(line) { writeLine(String(decoding: data, as: UTF8.self)) }
    }

    /// One line per finding or exception as it is read (the summary follows at the end).
    private func printLive(_ event: ScanEvent) {
        switch event {
        case .exception(let exception, _):
            writeLine(
                "exception \(exception.protocol)/\(exception.ports) \(exception.role)  [\(exception.evidence.location)]"
            )
        case .finding(let severity, let role, let code, let title, let evidence, _):
            writeLine("\(severity)\(code.map { " \($0)" } ?? ""): \(title) (\(role))  [\(evidence.location)]")
        case .notUnderstood:
            return
        }
    }

    /// `--explain` goes to standard error, so it can be read beside any output format.
    private func printExplanation(_ event: ScanEvent) {
        switch event {
        case .exception(let exception, let signature):
            var fields = ["role=\(exception.role)", "\(exception.protocol)/\(exception.ports)"]
            if let interface = exception.interface { fields.append("interface=\(interface)") }
            if let program = exception.program { fields.append("program=\(program)") }
            if let service = exception.service { fields.append("service=\"\(service)\"") }
            if let note = exception.note { fields.append("note=\"\(note)\"") }
            printError(
                "\(exception.evidence.location): [\(signature)] exception \(fields.joined(separator: " "))"
            )
        case .finding(let severity, let role, let code, let title, let evidence, let signature):
            printError(
                "\(evidence.location): [\(signature)] \(severity) role=\(role)\(code.map { " code=\($0)" } ?? "") \(title)"
            )
        case .notUnderstood(let evidence):
            printError("\(evidence.location): not understood: \(evidence.text ?? "")")
        }
    }
}

/// Prints records as JSON lines, for `scan --records`.
struct RecordPrinter {
    struct Row: Encodable {
        let path: String
        let line: Int
        let format: LogFormat
        let kind: RecordKind
        let context: [String]
        let text: String
        let time: String?
        let rollback: Bool?
        let outcome: String?
        let number: Int?
        let event: EventInfo?
        /// Named values (table cells by header, XML attributes and elements), when the record has them.
        let fields: [RecordField]?
        /// The rule a firewall record states (`firewall-rule` records).
        let firewall: FirewallChange?
    }

    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func print(_ record: Record) throws(AtomicFile.WriteError) {
        let row = Row(
            path: record.path, line: record.line, format: record.format, kind: record.kind, context: record.context,
            text: record.text, time: record.time, rollback: record.inRollback ? true : nil,
            outcome: record.outcome?.description,
            number: record.number, event: record.event, fields: record.fields.isEmpty ? nil : record.fields,
            firewall: record.firewall)
        if let data = try? encoder.encode(row) {
            try AtomicFile.standardOutput(String(decoding: data, as: UTF8.self) + "\n")
        }
    }
}
