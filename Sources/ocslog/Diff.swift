import ArgumentParser
import Foundation
import Knowledge
import LogParser
import Report
import RuleGen
import ScanModel
import SystemCalls

struct Diff: ParsableCommand, TerminalConfigurable {
    static let configuration = CommandConfiguration(
        abstract:
            "Compare two scans (before and after a fix): exceptions added and removed, findings resolved and new.",
        discussion: """
            OLD and NEW are each a scan result (`ocslog scan --format json` output) or logs (a file \
            or a folder). Per role, it lists the firewall exceptions added and removed and the \
            findings resolved, new and unchanged; findings are matched by their grouping signature \
            (signature, code and message with its variable parts masked), never by line number, so \
            a re-run log whose lines moved still matches.

            Exit status: 1 when NEW has a finding at or above --fail-on that OLD did not have, 0 \
            otherwise, 2 when a side cannot be read.

            Examples:
              ocslog diff before/ after/
              ocslog scan fe01-before/ --format json > before.json; ocslog diff before.json fe01-after/
              ocslog diff before.json after.json --format md -o change-4711-diff.md
            """)

    @Argument(help: "The earlier side: a scan result (.json) or logs (a file or a folder).")
    var old: String

    @Argument(help: "The later side: a scan result (.json) or logs (a file or a folder).")
    var new: String

    @Option(help: "text, md or json.")
    var format: ScanDiff.Format = .text

    @Option(name: .shortAndLong, help: "Write to this file (atomically) instead of standard output.")
    var output: String?

    @Option(help: "Exit 1 when NEW has a finding this severe that OLD did not: error, warning or never.")
    var failOn: Scan.Threshold = .error

    @Option(help: "A folder of YAML files that add to or replace the built-in knowledge.")
    var knowledge: String?

    @OptionGroup(title: "Terminal") var terminal: TerminalOptions

    func run() throws {
        let knowledgeBase = try CommandSupport.knowledge(from: knowledge, checking: [])
        let before = try side(old, knowledge: knowledgeBase)
        let after = try side(new, knowledge: knowledgeBase)
        let diff = ScanDiff(old: before, oldLabel: old, new: after, newLabel: new)
        let text = try diff.render(format)
        try CommandSupport.write(text, to: output)
        if let threshold = failOn.severity, diff.hasNewFinding(atLeast: threshold) { throw ExitStatus.findings }
    }

    /// A side: a scan result document when the path is a JSON file that decodes as one, else logs.
    private func side(_ path: String, knowledge: KnowledgeBase) throws -> ScanResult {
        if (try? OS.status(ofPath: path))?.kind == .regular, path.lowercased().hasSuffix(".json") {
            let data: Data
            do {
                data = Data(try OS.readFile(path))
            } catch {
                printError("ocslog: \(path): cannot read the file: \(error)")
                throw ExitStatus.inputError
            }
            do {
                let result = try JSONDecoder().decode(ScanResult.self, from: data)
                guard result.schemaVersion == 1 else {
                    printError(
                        "ocslog: \(path): scan result schemaVersion \(result.schemaVersion); this ocslog reads 1")
                    throw ExitStatus.inputError
                }
                return result
            } catch let error as DecodingError {
                printError(
                    "ocslog: \(path): not an `ocslog scan --format json` result (\(Self.describe(error))); pass logs or a scan result"
                )
                throw ExitStatus.inputError
            }
        }
        let (inputs, pathErrors) = CommandSupport.inputs([path])
        let analyzer = Analyzer(knowledge: knowledge)
        let failed = CommandSupport.analyze(inputs, with: analyzer, jobs: CommandSupport.cores)
        if failed || !pathErrors.isEmpty { throw ExitStatus.inputError }
        return analyzer.result()
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "no \"\(key.stringValue)\" field"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            context.debugDescription
        @unknown default: "\(error)"
        }
    }
}
