import ArgumentParser
import Foundation
import LogParser

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read logs from files, folders or standard input and summarise each input.",
        discussion: """
            With no path, reads standard input, so `cat *.log | ocslog scan` works. Folders are \
            read recursively in name order. Each input's encoding is detected from its first \
            bytes (byte-order mark, the NUL pattern of UTF-16, UTF-8 validity) unless --encoding \
            is given. An input that cannot be read is reported on standard error and the others \
            are still read; the exit status is then 2.

            Examples:
              cat *.log | ocslog scan
              ocslog scan MSI*.LOG "Activate Enterprise Edition Server.html"
              ocslog scan logs/ --format json
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: "Log files or folders; standard input when none (or `-`).")
    var paths: [String] = []

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(
        help: "Read every input in this encoding (utf-8, utf-16le, utf-16be, windows-1252) instead of detecting it.")
    var encoding: String?

    @Option(help: "Read every input as this format (msi, html, xml, event, csv, text) instead of detecting it.")
    var formatHint: String?

    @Flag(help: "Print every parsed record as one JSON object per line (what ocslog understood, line by line).")
    var records = false

    @Option(help: "The longest line kept whole, in bytes; the rest of a longer line is skipped and counted.")
    var maxLineLength: Int = LineReader.defaultMaximumLineLength

    func validate() throws {
        if let encoding, TextEncoding(userName: encoding) == nil {
            throw ValidationError(
                "unknown encoding '\(encoding)'; use one of: \(TextEncoding.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        if let formatHint, LogFormat(userName: formatHint) == nil {
            throw ValidationError(
                "unknown format '\(formatHint)'; use one of: msi, html, xml, event, csv, text")
        }
        guard maxLineLength >= 80 else { throw ValidationError("--max-line-length must be at least 80 bytes") }
    }

    func run() throws {
        let (inputs, pathErrors) = InputFile.expand(paths)
        for error in pathErrors { printError("ocslog: \(error)") }
        let options = ReadOptions(
            maximumLineLength: maxLineLength, encoding: encoding.flatMap(TextEncoding.init(userName:)))
        var summaries: [InputSummary] = []
        var failed = !pathErrors.isEmpty
        let hint = formatHint.flatMap(LogFormat.init(userName:))
        let recordPrinter = records ? RecordPrinter() : nil
        for input in inputs {
            do {
                summaries.append(
                    try input.parse(options: options, formatHint: hint) { draft in
                        recordPrinter?.print(draft.materialize())
                    })
            } catch {
                printError("ocslog: \(error)")
                failed = true
            }
        }
        if !records {
            switch format {
            case .text: print(ScanText.render(summaries), terminator: "")
            case .json: print(try ScanJSON.render(summaries))
            }
        }
        if failed { throw ExitStatus.inputError }
    }
}

/// The human-readable scan summary.
enum ScanText {
    static func render(_ summaries: [InputSummary]) -> String {
        let totalLines = summaries.reduce(0) { $0 + $1.lines }
        let totalBytes = summaries.reduce(0) { $0 + $1.bytes }
        var output =
            "ocslog scan: \(summaries.count) input\(summaries.count == 1 ? "" : "s"), \(totalLines) lines, \(totalBytes) bytes\n"
        for summary in summaries {
            var formats = summary.formats.isEmpty ? "empty" : summary.formats.map(\.rawValue).joined(separator: "+")
            if summary.logs > 1 { formats += " (\(summary.logs) logs)" }
            output +=
                "  \(summary.path): \(formats), \(summary.encoding) (\(summary.encodingEvidence)), \(summary.lines) lines, \(summary.bytes) bytes"
            var notes: [String] = []
            if summary.skipped.longLines > 0 {
                notes.append("\(summary.skipped.longLines) long lines cut, \(summary.skipped.bytes) bytes skipped")
            }
            if summary.skipped.windows1252Lines > 0 {
                notes.append("\(summary.skipped.windows1252Lines) lines read as windows-1252")
            }
            if summary.skipped.undecodable > 0 { notes.append("\(summary.skipped.undecodable) undecodable characters") }
            if !notes.isEmpty { output += "; " + notes.joined(separator: "; ") }
            output += "\n"
        }
        return output
    }
}

/// The scan result as one JSON document (a public contract: see the README).
enum ScanJSON {
    struct Document: Encodable {
        let schemaVersion = 1
        let inputs: [InputSummary]
    }

    static func render(_ summaries: [InputSummary]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(Document(inputs: summaries)), as: UTF8.self)
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
    }

    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func print(_ record: Record) {
        let outcome: String? =
            switch record.outcome {
            case .success: "success"
            case .failure(let code): code.map { "failure \($0)" } ?? "failure"
            case nil: nil
            }
        let row = Row(
            path: record.path, line: record.line, format: record.format, kind: record.kind, context: record.context,
            text: record.text, time: record.time, rollback: record.inRollback ? true : nil, outcome: outcome,
            number: record.number, event: record.event)
        if let data = try? encoder.encode(row) { Swift.print(String(decoding: data, as: UTF8.self)) }
    }
}
