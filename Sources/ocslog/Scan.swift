import ArgumentParser
import Foundation
import Knowledge
import LogParser
import Report
import RuleGen
import ScanModel
import SystemCalls

struct Scan: ParsableCommand, TerminalConfigurable {
    static let configuration = CommandConfiguration(
        abstract: "Find the firewall exceptions, errors and warnings in setup logs, per server role.",
        discussion: """
            With no path, reads standard input, so `cat *.log | ocslog scan` works. Folders are \
            read recursively in name order. Each input's encoding and format are detected (a pipe \
            may hold several logs one after another). An input that cannot be read is reported on \
            standard error and the others are still read.

            Exit status: 0 when no finding reaches --fail-on, 1 when one does, 2 for a usage error \
            or an input that could not be read.

            Examples:
              cat *.log | ocslog scan
              ocslog scan MSI*.LOG "Activate Enterprise Edition Server.html"
              ocslog scan logs/ --format json > scan.json
              ocslog scan logs/ --explain          # what matched, and what looked relevant but did not
              ocslog scan --knowledge ./my-signatures logs/
              tail -f setup.log | ocslog scan --format jsonl   # live: each event as soon as it is read
              ocslog scan --follow setup.log                    # like tail -F; Ctrl-C ends with the summary

            Live input (--follow, or a pipe read with --format jsonl or to a terminal): each exception \
            and finding is reported as soon as its record is complete, and a record still open after a \
            quiet second is completed. Ctrl-C while reading a pipe or a followed file stops reading and \
            prints the summary of what was read (exit status 130).
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json, jsonl
    }

    enum Threshold: String, ExpressibleByArgument, CaseIterable {
        case error, warning, never

        var severity: Severity? {
            switch self {
            case .error: .error
            case .warning: .warning
            case .never: nil
            }
        }
    }

    @Argument(help: "Log files or folders; standard input when none (or `-`).")
    var paths: [String] = []

    @Option(help: "Output: text (a summary per role), json (one document), jsonl (one event per line, as found).")
    var format: OutputFormat = .text

    @Option(help: "Exit 1 when a finding is at least this severe: error, warning or never.")
    var failOn: Threshold = .error

    @Option(name: .customLong("role"), help: "Treat every input as this role (repeatable; the first is used).")
    var roles: [RoleID] = []

    @Option(
        help:
            "A folder of YAML files that add to or replace the built-in knowledge (roles, ports, signatures, known issues)."
    )
    var knowledge: String?

    @Flag(
        help:
            "Print, per line, the signature that matched and its fields, and the lines that looked relevant but matched nothing."
    )
    var explain = false

    @Option(
        help: "Read every input in this encoding instead of detecting it (cp1252, latin1 and unicode are read too).")
    var encoding: TextEncoding?

    @Option(
        help:
            "Read every input as this format instead of detecting it."
    )
    var formatHint: LogFormat?

    @Flag(help: "Print every parsed record as one JSON object per line (what ocslog read, before classification).")
    var records = false

    @Flag(
        help:
            "Parse every line into its record (the reference path: slower; the default reads lines that cannot change the result without parsing them, and must give the same result)."
    )
    var exact = false

    @Flag(
        help:
            "Keep reading the one file given as it grows, like tail -F (a truncated or replaced file is read anew); Ctrl-C ends with the summary."
    )
    var follow = false

    @Option(
        help:
            "Also write a ranked report to this file; its format follows the extension (.md, .html, .json, .sarif, .xml)."
    )
    var report: String?

    @Option(help: "Also write the nftables ruleset to this file (written whole or not at all).")
    var nft: String?

    @Option(help: "Also write the iptables-restore ruleset to this file.")
    var iptables: String?

    @Option(help: "Also write the ip6tables-restore ruleset to this file.")
    var ip6tables: String?

    @OptionGroup(title: "Ruleset options (with --nft, --iptables, --ip6tables)") var rules: RuleArguments

    @OptionGroup(title: "Reading") var reading: ReadingOptions

    @OptionGroup(title: "Terminal") var terminal: TerminalOptions

    @Option(help: "The longest line kept whole, in bytes; the rest of a longer line is skipped and counted.")
    var maxLineLength: Int = LineReader.defaultMaximumLineLength

    func validate() throws {
        if let report, ReportFormat(fileName: report) == nil {
            throw ValidationError(
                "cannot tell the report format from '\(report)'; name it .md, .html, .json, .sarif or .xml")
        }
        guard maxLineLength >= 80 else { throw ValidationError("--max-line-length must be at least 80 bytes") }
        if follow {
            guard paths.count == 1, paths[0] != "-" else {
                throw ValidationError("--follow reads one file: ocslog scan --follow FILE (for a pipe, just pipe it)")
            }
            guard !records else { throw ValidationError("--follow and --records do not go together") }
        }
    }

    /// Whether the input is live: a followed file, or standard input that is no regular file (a
    /// pipe from `tail -f`, a terminal), where records are completed after a quiet second.
    var isLive: Bool {
        if follow { return true }
        guard paths.isEmpty || paths == ["-"] else { return false }
        guard let status = try? OS.status(of: OS.standardInput) else { return false }
        return status.kind != .regular
    }

    func run() throws {
        let knowledgeBase = try CommandSupport.knowledge(from: knowledge, checking: roles)
        // A bad topology stops the scan before it reads anything.
        let topology =
            nft != nil || iptables != nil || ip6tables != nil ? try rules.readTopology(knowledge: knowledgeBase) : nil
        if nft != nil || iptables != nil || ip6tables != nil { _ = try rules.options(roles: [], topology: topology) }
        let live = isLive
        let (inputs, pathErrors) =
            follow ? ([InputFile.following(paths[0])], []) : CommandSupport.inputs(paths)
        var readOptions = ReadOptions(
            maximumLineLength: maxLineLength, encoding: encoding)
        // --records shows the records the analysis reads: tables, XML fields and headings need the vocabulary.
        readOptions.vocabulary = knowledgeBase.vocabulary
        readOptions.firewall = knowledgeBase.firewall
        // Records are completed after a quiet second only where they are reported as they are read:
        // a batch `cat *.log | ocslog scan` waits for each record's end, whatever the pipe's pace.
        let reportsAsRead = follow || format == .jsonl || (format == .text && OS.isTerminal(OS.standardOutput))
        if live {
            if reportsAsRead { readOptions.idleTimeout = 1000 }
            readOptions.onFileChange = { printError("ocslog: note: \($0)") }
            Interruption.install()
        }
        let hint = formatHint
        var failed = !pathErrors.isEmpty

        if records {
            let printer = RecordPrinter()
            for input in inputs {
                do {
                    _ = try input.parse(options: readOptions, formatHint: hint) { try printer.print($0.materialize()) }
                } catch let error as AtomicFile.WriteError {
                    throw error  // standard output is gone: the other inputs cannot be printed either
                } catch {
                    printError("ocslog: \(error)")
                    failed = true
                }
            }
            if failed { throw ExitStatus.inputError }
            return
        }

        let analyzer = Analyzer(
            knowledge: knowledgeBase,
            options: AnalysisOptions(
                roles: roles, readOptions: readOptions, formatHint: hint, surroundingRecords: report == nil ? 0 : 2,
                server: reading.server, parseEveryLine: exact)
        )
        // Live text on a terminal: a line per finding as it is read, the summary at the end.
        let liveText = live && format == .text && OS.isTerminal(OS.standardOutput)
        let lines = EventPrinter(format: format, explain: explain, liveText: liveText)
        if CommandSupport.analyze(
            inputs, with: analyzer, jobs: reading.jobs, progress: !live,
            onEvent: format == .jsonl || explain || liveText ? { lines.print($0) } : nil)
        {
            failed = true
        }
        let result = analyzer.result()
        if nft != nil || iptables != nil || ip6tables != nil {
            let options = try rules.options(roles: [], topology: topology)
            let rulesets = Rulesets(
                result, knowledge: knowledgeBase, options: options, generator: Generator(version: OCSLog.version))
            if let nft { try AtomicFile.write(rulesets.nft, to: nft) }
            if let iptables { try AtomicFile.write(rulesets.iptables(.ipv4), to: iptables) }
            if let ip6tables { try AtomicFile.write(rulesets.iptables(.ipv6), to: ip6tables) }
        }
        if let report, let reportFormat = ReportFormat(fileName: report) {
            try ReportOutput.write(result, knowledge: knowledgeBase, format: reportFormat, to: report)
        }
        switch format {
        case .text: try CommandSupport.write(ScanText.render(result, style: Style.forStandardOutput), to: nil)
        case .json:
            // The inputs one at a time: a pipe of thousands of logs has thousands of them.
            var shell = result
            shell.inputs = []
            try JSONDocument.write(result, shell: shell, streaming: "inputs", elements: result.inputs) {
                try AtomicFile.standardOutput(String(decoding: $0, as: UTF8.self))
            }
        case .jsonl: lines.printSummary(result)
        }
        if let failure = lines.failure { throw failure }
        if let signal = Interruption.signal {
            printError("ocslog: interrupted; the summary above is of what was read")
            throw ExitStatus.interrupted(by: signal)
        }
        if failed { throw ExitStatus.inputError }
        if let threshold = failOn.severity, result.findings.contains(where: { $0.severity >= threshold }) {
            throw ExitStatus.findings
        }
    }
}
