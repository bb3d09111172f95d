import ArgumentParser
import Foundation
import Knowledge
import LogParser
import RuleGen
import ScanModel
import SystemCalls

@main
struct OCSLog: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "ocslog",
        abstract: "Read Office Communications Server, Lync and Skype for Business setup logs.",
        discussion: """
            ocslog streams deployment-wizard HTML logs, LCSCmd XML logs, verbose Windows Installer \
            logs and event exports (UTF-8, UTF-16 or Windows-1252), finds the firewall exceptions \
            and the errors per server role, and turns them into firewall rules and a ranked report.

            Examples:
              cat *.log | ocslog scan
              ocslog scan /mnt/fe01/Temp --format json
              ocslog rules logs/ --target nft -o ocslog.nft
              ocslog report logs/ -o change-4711.html
              ocslog diff before/ after/
              ocslog explain 0xC3EC796C
            """,
        version: version,
        subcommands: [Scan.self, Rules.self, ReportCommand.self, Diff.self, Explain.self, Roles.self, Collect.self],
        defaultSubcommand: nil
    )

    /// Runs the command; usage errors exit 2 (as grep does), not ArgumentParser's 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            if let options = (command as? TerminalConfigurable)?.terminal { options.apply() }
            try command.run()
        } catch let error as AtomicFile.WriteError {
            // Every result goes through AtomicFile: a path that cannot be written ends with 2.
            printError("ocslog: \(error)")
            Foundation.exit(ExitStatus.inputError.rawValue)
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(ExitStatus.inputError.rawValue)
            }
            exit(withError: error)
        }
    }
}

/// Exit statuses, as grep and linters use them.
enum ExitStatus {
    /// No finding at or above the threshold.
    static let clean = ExitCode(0)
    /// Findings at or above the threshold.
    static let findings = ExitCode(1)
    /// A usage or input error.
    static let inputError = ExitCode(2)
    /// Interrupted by a signal while reading (128 + its number: 130 for Ctrl-C, 143 for SIGTERM),
    /// after the summary of what was read.
    static func interrupted(by signal: Int32) -> ExitCode { ExitCode(128 + signal) }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    OS.writeError(message + "\n")
}

/// What every command that reads logs does first.
enum CommandSupport {
    /// The built-in knowledge with `directory`'s files on top, and `roles` checked against it;
    /// problems are printed and end the command with status 2.
    static func knowledge(from directory: String?, checking roles: [RoleID]) throws -> KnowledgeBase {
        let knowledge: KnowledgeBase
        do {
            knowledge = try KnowledgeBase.load(overrides: directory)
        } catch {
            printError("ocslog: \(error)")
            throw ExitStatus.inputError
        }
        for role in roles where !knowledge.roleIDs.contains(role) {
            printError(
                "ocslog: unknown role '\(role)'; valid roles: \(knowledge.roleIDs.map(\.rawValue).joined(separator: ", "))"
            )
            throw ExitStatus.inputError
        }
        return knowledge
    }

    /// Reads every input through `analyzer` on `jobs` threads (one when events stream as found),
    /// with a progress line on a terminal; an input that cannot be read is reported and the others
    /// are still read. Returns whether one failed.
    static func analyze(
        _ inputs: [InputFile], with analyzer: Analyzer, jobs: Int = 1, progress showProgress: Bool = true,
        onEvent: ((ScanEvent) -> Void)? = nil
    ) -> Bool {
        let progress = Progress(inputs: inputs, enabled: showProgress)
        var failed = false
        // Notes about unrecognised inputs: a few by name, then a count (a folder of fragments would flood stderr).
        var unrecognised = 0
        let maximumNotes = 5
        func finished(_ input: InputFile, _ outcome: Result<[InputResult], Error>) {
            switch outcome {
            case .success(let results):
                progress.finished(
                    bytes: results.reduce(0) { $0 + $1.bytes }, lines: results.reduce(0) { $0 + $1.lines })
                let plain = results.filter { $0.format == .plainText && $0.lines > 0 }
                if !plain.isEmpty {
                    unrecognised += 1
                    if unrecognised <= maximumNotes {
                        // One note per input: a stream's logs by number ("-: logs #8, #10 …").
                        let which =
                            results.count == 1 && !input.isStandardInput
                            ? input.path
                            : "\(input.path): log\(plain.count == 1 ? "" : "s") "
                                + plain.compactMap { $0.log.map { "#\($0)" } }.joined(separator: ", ")
                        progress.clear()
                        printError(
                            "ocslog: note: \(which): not recognised as an MSI, deployment-wizard HTML, LCSCmd XML, "
                                + "event-export or firewall-record log; read as plain text (if it is one, say which with --format-hint)"
                        )
                    }
                }
            case .failure(let error):
                progress.finished(bytes: 0, lines: 0)
                progress.clear()
                printError("ocslog: \(error)")
                failed = true
            }
        }
        if let onEvent {
            // Events stream in the order found: one input at a time.
            for (index, input) in inputs.enumerated() {
                analyzer.progress = { progress.update(input: index, byteOffset: $0, line: $1) }
                finished(input, Result { try analyzer.analyze(input, onEvent: onEvent) })
            }
            analyzer.progress = nil
        } else {
            analyzer.analyze(
                inputs, jobs: jobs, onProgress: { progress.update(input: $0, byteOffset: $1, line: $2) },
                onInput: { finished(inputs[$0], $1) })
        }
        progress.clear()
        if unrecognised > maximumNotes {
            printError("ocslog: note: \(unrecognised - maximumNotes) more inputs not recognised, read as plain text")
        }
        return failed
    }

    /// Writes a command's output to a file (whole or not at all) or, without one, to standard output.
    /// Writes a result to `path` (whole or not at all) or to standard output; a failure names the
    /// path and ends the command with status 2.
    static func write(_ text: String, to path: String?) throws(AtomicFile.WriteError) {
        guard let path else { return try AtomicFile.standardOutput(text) }
        try AtomicFile.write(text, to: path)
    }

    /// The default for --jobs: the number of processor cores.
    static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// The inputs the paths name; paths that do not exist are reported and returned as errors.
    static func inputs(_ paths: [String]) -> (inputs: [InputFile], errors: [InputError]) {
        let (inputs, errors) = InputFile.expand(paths)
        for error in errors { printError("ocslog: \(error)") }
        return (inputs, errors)
    }
}

/// A command that takes `--color` and `--quiet`.
protocol TerminalConfigurable {
    var terminal: TerminalOptions { get }
}
