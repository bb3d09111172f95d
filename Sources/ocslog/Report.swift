import ArgumentParser
import Foundation
import Knowledge
import LogParser
import Report
import RuleGen
import ScanModel

struct ReportCommand: ParsableCommand, TerminalConfigurable {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a ranked troubleshooting report to attach to a change ticket.",
        discussion: """
            Reads the logs as `ocslog scan` does and writes one report: a headline verdict, the \
            status of each role (ok / warnings / failed, exceptions found against the documented \
            ports), the findings ranked root cause first (each with its score and the reasons for \
            it, the evidence lines with the records around them, the likely cause and the fix), the \
            firewall exceptions per role, what looked relevant but was not understood, and the \
            inputs read. Property values that look secret stay masked in every format.

            Formats: md (Markdown for a ticket), html (one self-contained file, printable), json \
            (the scan contract with the ranking reasons), sarif (SARIF 2.1.0 for code-scanning \
            views), junit (JUnit XML: one test case per role, failures for errors). With -o the \
            format follows the file's extension unless --format is given; the file is written \
            whole or not at all.

            Examples:
              ocslog report logs/ -o change-4711.md
              ocslog report "Activate Enterprise Edition Server.html" -o report.html
              cat *.log | ocslog report --format sarif > ocslog.sarif
              ocslog scan logs/ --report report.html      # the same, from a scan
            """)

    @Argument(help: "Log files or folders; standard input when none (or `-`).")
    var paths: [String] = []

    @Option(help: "md, html, json, sarif or junit (default: from the -o file's extension, else md).")
    var format: ReportFormat?

    @Option(name: .shortAndLong, help: "Write the report to this file (atomically) instead of standard output.")
    var output: String?

    @Option(name: .customLong("role"), help: "Treat every input as this role (repeatable; the first is used).")
    var roles: [RoleID] = []

    @Option(help: "A folder of YAML files that add to or replace the built-in knowledge.")
    var knowledge: String?

    @Option(help: "Exit 1 when a finding is at least this severe: error, warning or never.")
    var failOn: Scan.Threshold = .never

    @OptionGroup(title: "Reading") var reading: ReadingOptions

    @OptionGroup(title: "Terminal") var terminal: TerminalOptions

    func validate() throws {
        _ = try reportFormat()
    }

    func reportFormat() throws -> ReportFormat {
        if let format { return format }
        if let output {
            guard let chosen = ReportFormat(fileName: output) else {
                throw ValidationError(
                    "cannot tell the report format from '\(output)'; name it .md, .html, .json, .sarif or .xml, or give --format"
                )
            }
            return chosen
        }
        return .markdown
    }

    func run() throws {
        let knowledgeBase = try CommandSupport.knowledge(from: knowledge, checking: roles)
        let (inputs, pathErrors) = CommandSupport.inputs(paths)
        let analyzer = Analyzer(
            knowledge: knowledgeBase,
            options: AnalysisOptions(roles: roles, surroundingRecords: 2, server: reading.server))
        let failed = CommandSupport.analyze(inputs, with: analyzer, jobs: reading.jobs) || !pathErrors.isEmpty
        let result = analyzer.result()
        try ReportOutput.write(result, knowledge: knowledgeBase, format: try reportFormat(), to: output)
        if failed { throw ExitStatus.inputError }
        if let threshold = failOn.severity, result.findings.contains(where: { $0.severity >= threshold }) {
            throw ExitStatus.findings
        }
    }
}

/// Writing a report, for `report` and `scan --report`.
enum ReportOutput {
    static func write(_ result: ScanResult, knowledge: KnowledgeBase, format: ReportFormat, to path: String?) throws {
        let document = ReportDocument(result: result, knowledge: knowledge, generator: "ocslog \(OCSLog.version)")
        try CommandSupport.write(try format.render(document), to: path)
    }
}

struct Explain: ParsableCommand, TerminalConfigurable {
    static let configuration = CommandConfiguration(
        abstract: "Explain an error code or a known issue: what it means and the fix.",
        discussion: """
            CODE is a hex code (0xC3EC796C, 0x80070005), a decimal one (1603, 3286842403, \
            -2147024891) or a known-issue id (KI-09). The answer gives the code's other spellings, \
            what an HRESULT decodes to (severity, facility, code), its meaning, and the known \
            issues it belongs to with their fix. A code the knowledge base does not hold gets an \
            honest "not in the knowledge base" and its decoding; the exit status is then 1.

            Examples:
              ocslog explain 0xC3EC796C
              ocslog explain 1603
              ocslog explain KI-01
              ocslog explain 0x80070005 --format json
            """)

    @Argument(help: "A code such as 0xC3EC796C, 1603, 3286842403, or a known-issue id such as KI-09.")
    var code: String

    @Option(help: "text or json.")
    var format: Scan.OutputFormat = .text

    @Option(help: "A folder of YAML files that add to or replace the built-in knowledge.")
    var knowledge: String?

    @OptionGroup(title: "Terminal") var terminal: TerminalOptions

    func run() throws {
        let knowledgeBase = try CommandSupport.knowledge(from: knowledge, checking: [])
        guard let explanation = Explanation(code, knowledge: knowledgeBase) else {
            printError(
                "ocslog explain: '\(code)' is neither a code (0xC3EC796C, 1603, 3286842403, -2147024891) nor a known-issue id (\(knowledgeBase.knownIssues.map(\.id).sorted().joined(separator: ", ")))"
            )
            throw ExitStatus.inputError
        }
        if format == .text {
            try CommandSupport.write(explanation.text, to: nil)
        } else {
            try CommandSupport.write(try JSONDocument.render(explanation) + "\n", to: nil)
        }
        if !explanation.known { throw ExitStatus.findings }
    }
}
