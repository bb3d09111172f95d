import Foundation
import Knowledge
import LogParser
import ScanModel
import TestSupport
import Testing
import Yams

@testable import Report

#if canImport(FoundationXML)
    import FoundationXML
#endif

enum ReportFixtures {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("corpus")
    static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Snapshots")
    /// The built-in knowledge (a load failure fails the test that reads it).
    static var knowledge: KnowledgeBase { get throws { try Fixtures.knowledge() } }

    static func document(_ paths: [String], roles: [String] = []) throws -> ReportDocument {
        let analyzer = Analyzer(
            knowledge: try knowledge, options: AnalysisOptions(roles: roles.map { RoleID($0) }, surroundingRecords: 2))
        let (inputs, errors) = InputFile.expand(paths)
        if let error = errors.first { throw error }
        for input in inputs { try analyzer.analyze(input) }
        return ReportDocument(result: analyzer.result(), knowledge: try knowledge, generator: "ocslog (test)")
    }

    /// A temporary folder holding files with the given contents.
    static func folder(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ocslog-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return folder
    }

    /// The failing scenarios and the root cause their expectations name.
    static func failingScenarios() throws -> [(scenario: String, line: Int, code: String?, knownIssue: String?)] {
        struct Expected: Decodable {
            struct Root: Decodable {
                let line: Int?
                let code: String?
                let severity: String?
                let knownIssue: String?

                enum CodingKeys: String, CodingKey {
                    case line, code, severity
                    case knownIssue = "known_issue"
                }
            }
            let root: Root?
        }
        let expected = corpus.appendingPathComponent("expected")
        var found: [(String, Int, String?, String?)] = []
        for scenario in try FileManager.default.contentsOfDirectory(atPath: expected.path).sorted() {
            let folder = expected.appendingPathComponent(scenario)
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                guard let root = try YAMLDecoder().decode(Expected.self, from: text).root, root.severity == "error"
                else { continue }
                found.append(
                    ("\(scenario)/\(file.dropLast(".yaml".count))", root.line ?? 0, root.code, root.knownIssue))
            }
        }
        return found
    }
}

@Suite struct RankingTests {
    @Test func theFirstRankedFindingOfEveryFailingScenarioIsItsRootCause() throws {
        let scenarios = try ReportFixtures.failingScenarios()
        #expect(scenarios.count >= 4, "the corpus has failing scenarios")
        for (scenario, line, code, knownIssue) in scenarios {
            let document = try ReportFixtures.document([
                ReportFixtures.corpus.appendingPathComponent("logs/\(scenario)").path  // one log of the scenario
            ])
            let first = try #require(document.findings.first, "\(scenario): no finding")
            #expect(first.evidence[0].line == line, "\(scenario): ranked first: \(first.title)")
            if let code { #expect(first.code == code, "\(scenario)") }
            if let knownIssue { #expect(first.knownIssue == knownIssue, "\(scenario)") }
            #expect(first.causeRank == nil && !first.consequence, "\(scenario)")
            #expect(document.verdict == .failed)
            // The headline names the known issue's title (or the finding's) and the role.
            let issues = try ReportFixtures.knowledge.knownIssues
            let title = knownIssue.flatMap { id in issues.first { $0.id == id }?.title } ?? first.title
            #expect(document.headline.contains(title), "\(scenario): \(document.headline)")
        }
    }

    @Test func scoresAreExplainedAndSumToTheirReasons() throws {
        let document = try ReportFixtures.document([ReportFixtures.corpus.appendingPathComponent("logs").path])
        for finding in document.findings {
            let points = finding.reasons.compactMap { reason -> Int? in
                guard !reason.hasPrefix("capped") else { return nil }
                return Int(reason.split(separator: " ")[0].replacingOccurrences(of: "+", with: ""))
            }
            if finding.reasons.contains(where: { $0.hasPrefix("capped") }) {
                #expect(finding.score < points.reduce(0, +))
            } else {
                #expect(finding.score == points.reduce(0, +), "\(finding.title): \(finding.reasons)")
            }
        }
        #expect(document.findings.map(\.score) == document.findings.map(\.score).sorted(by: >))
    }

    @Test func repeatsNeverLiftAConsequenceAboveItsCause() throws {
        // One access-denied error, then the same action's failure repeated 5,000 times in the rollback.
        var log = "=== Verbose logging started: 1/2/2026  10:00:00  Build type: SHIP UNICODE 3.01.4000.4042 ===\n"
        log += "Action start 10:00:01: InstallFinalize.\n"
        log += "CA_Setup: Failed to open the service: 0x80070005 Access is denied.\n"
        log += "Action ended 10:00:02: InstallFinalize. Return value 3.\n"
        for index in 0..<5000 {
            log +=
                "MSI (s) (2C:48) [10:00:03:\(index % 1000)]: Product: Office Communications Server 2007 R2 -- Error 1722. A program run as part of the setup did not finish as expected. Action CA_\(index % 3)\n"
        }
        let folder = try ReportFixtures.folder(["FrontEnd.log": log])
        defer { try? FileManager.default.removeItem(at: folder) }
        let document = try ReportFixtures.document([folder.path])
        let first = try #require(document.findings.first)
        #expect(first.code == "0x80070005")
        for finding in document.findings.dropFirst() where finding.causeRank != nil {
            let cause = try #require(document.findings.first { $0.rank == finding.causeRank })
            #expect(finding.score < cause.score, "\(finding.title) ×\(finding.count) above its cause")
        }
        #expect(document.findings.contains { $0.count > 1000 })
    }
}

@Suite struct ReportFormatTests {
    /// The corpus report, its absolute corpus path replaced so that goldens do not depend on the checkout.
    static func corpusReport(_ format: ReportFormat) throws -> String {
        let document = try ReportFixtures.document([ReportFixtures.corpus.appendingPathComponent("logs").path])
        let prefix = ReportFixtures.corpus.path + "/"
        return try format.render(document).replacingOccurrences(of: prefix, with: "corpus/")
    }

    /// Scenarios whose reports are kept as snapshots, each a folder of `corpus/logs`: an MSI
    /// failure, an Edge, a known issue, a server's firewall record against its setup, and a whole
    /// deployment of several servers. One file per scenario and format, so that a ranking change
    /// rewrites the scenarios it touches, not one file for the whole corpus.
    static let scenarios = ["msi-failure", "edge", "kb974571", "firewall-fe01", "contoso-deployment"]

    static func scenarioReport(_ scenario: String, _ format: ReportFormat) throws -> String {
        let folder = Fixtures.corpus.appendingPathComponent("logs/\(scenario)")
        let document = try ReportFixtures.document([folder.path])
        return try format.render(document).replacingOccurrences(of: Fixtures.corpus.path + "/", with: "corpus/")
    }

    @Test(arguments: scenarios, ReportFormat.allCases)
    func snapshots(scenario: String, format: ReportFormat) throws {
        let text = try Self.scenarioReport(scenario, format)
        let file = ReportFixtures.snapshots.appendingPathComponent("\(scenario).\(format.fileExtension)")
        let mismatch = try Snapshot.mismatch(text, file: file)
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    @Test func sarifHasTheRequiredStructureOfVersion210() throws {
        let data = Data(try Self.corpusReport(.sarif).utf8)
        let log = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        #expect((log["$schema"] as? String)?.hasSuffix("sarif-2.1.0.json") == true)
        let runs = try #require(log["runs"] as? [[String: Any]])
        #expect(runs.count == 1)
        let run = runs[0]
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "ocslog")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        let ruleIDs = rules.compactMap { $0["id"] as? String }
        #expect(ruleIDs.count == rules.count && Set(ruleIDs).count == ruleIDs.count, "rule ids present and unique")
        for rule in rules {
            #expect((rule["shortDescription"] as? [String: Any])?["text"] is String)
            let level = (rule["defaultConfiguration"] as? [String: Any])?["level"] as? String
            #expect(["none", "note", "warning", "error"].contains(level ?? ""))
        }
        let artifacts = try #require(run["artifacts"] as? [[String: Any]])
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(!results.isEmpty)
        var fingerprints = Set<String>()
        for result in results {
            let ruleID = try #require(result["ruleId"] as? String)
            let index = try #require(result["ruleIndex"] as? Int)
            #expect(index >= 0 && index < rules.count && ruleIDs[index] == ruleID)
            #expect(["none", "note", "warning", "error"].contains(result["level"] as? String ?? ""))
            let message = (result["message"] as? [String: Any])?["text"] as? String
            #expect(message?.isEmpty == false)
            let rank = try #require(result["rank"] as? Double)
            #expect(rank >= 0 && rank <= 100)
            let partial = try #require(result["partialFingerprints"] as? [String: String])
            let fingerprint = try #require(partial["ocslogGroup/v1"])
            #expect(fingerprint.count == 16)
            fingerprints.insert(fingerprint)
            for location in try #require(result["locations"] as? [[String: Any]]) {
                let physical = try #require(location["physicalLocation"] as? [String: Any])
                let artifact = try #require(physical["artifactLocation"] as? [String: Any])
                let uri = try #require(artifact["uri"] as? String)
                #expect(URL(string: uri) != nil, "uri is a valid URI reference: \(uri)")
                if let artifactIndex = artifact["index"] as? Int {
                    #expect(artifactIndex >= 0 && artifactIndex < artifacts.count)
                }
                let startLine = try #require((physical["region"] as? [String: Any])?["startLine"] as? Int)
                #expect(startLine >= 1)
            }
        }
        #expect(fingerprints.count == results.count, "one fingerprint per finding")
    }

    @Test func fingerprintsDoNotDependOnLineNumbers() throws {
        let failure = "CA_Setup: Failed to open the service: 0x80070005 Access is denied.\n"
        let start =
            "=== Verbose logging started: 1/2/2026  10:00:00  Build type: SHIP UNICODE 3.01.4000.4042 ===\nAction start 10:00:01: InstallFinalize.\n"
        let folder = try ReportFixtures.folder([:])
        defer { try? FileManager.default.removeItem(at: folder) }
        let one = folder.appendingPathComponent("one.log")
        let two = folder.appendingPathComponent("two.log")
        try (start + failure).write(to: one, atomically: true, encoding: .utf8)
        try (start + "Info 1: something\nInfo 2: more\n" + failure).write(to: two, atomically: true, encoding: .utf8)
        let first = try #require(try ReportFixtures.document([one.path]).findings.first)
        let second = try #require(try ReportFixtures.document([two.path]).findings.first)
        #expect(first.evidence[0].line != second.evidence[0].line)
        #expect(ReportDocument.fingerprint(first) == ReportDocument.fingerprint(second))
    }

    @Test func junitIsWellFormedWithOneCasePerRoleAndFailuresForErrors() throws {
        let text = try Self.corpusReport(.junit)
        let parser = XMLParser(data: Data(text.utf8))
        #expect(parser.parse(), "JUnit XML parses: \(String(describing: parser.parserError))")
        let document = try ReportFixtures.document([ReportFixtures.corpus.appendingPathComponent("logs").path])
        #expect(text.components(separatedBy: "<testcase ").count - 1 == document.roles.count)
        #expect(text.components(separatedBy: "<failure ").count - 1 == document.summary.errors)
    }

    /// A failing log whose lines carry a secret, markup and Markdown: nothing of it escapes its place.
    static func hostileDocument() throws -> (ReportDocument, URL) {
        var log = "=== Verbose logging started: 1/2/2026  10:00:00  Build type: SHIP UNICODE 3.01.4000.4042 ===\n"
        log += "Property(S): SERVICEPASSWORD = hunter2-Secret\n"
        log += "PROPERTY CHANGE: Adding DBPASSWORD property. Its value is 'hunter3-Secret'.\n"
        log += "Action start 10:00:01: InstallFinalize.\n"
        log +=
            "CA_Setup: Failed <script>alert('x')</script> | **bold** [link](http://x) ``` 0x80070005 Access is denied.\n"
        log += "Action ended 10:00:02: InstallFinalize. Return value 3.\n"
        let folder = try ReportFixtures.folder(["FrontEnd.log": log])
        return (try ReportFixtures.document([folder.path]), folder)
    }

    @Test(arguments: ReportFormat.allCases)
    func secretsStayMaskedInEveryFormat(format: ReportFormat) throws {
        let (document, folder) = try Self.hostileDocument()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(
            document.findings.contains { ($0.surrounding ?? []).contains { $0.text?.contains("********") == true } })
        let text = try format.render(document)
        #expect(!text.contains("hunter2"), "\(format) leaks a masked property value")
        #expect(!text.contains("hunter3"), "\(format) leaks a masked property value")
    }

    @Test func htmlShowsMarkupFromALogAsText() throws {
        let (document, folder) = try Self.hostileDocument()
        defer { try? FileManager.default.removeItem(at: folder) }
        let html = HTMLReport.render(document)
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(!html.contains("src=") && !html.contains("<link") && !html.contains("href=\"http"), "no network use")
        #expect(!html.contains("<script"), "no script needed")
        #expect(html.contains("<svg"))
    }

    @Test func markdownHoldsNoHTMLAndLogTextCannotCloseItsFence() throws {
        let (document, folder) = try Self.hostileDocument()
        defer { try? FileManager.default.removeItem(at: folder) }
        let markdown = MarkdownReport.render(document)
        // Outside fences, every < is escaped; inside, the fence is longer than the log's backtick run.
        var inFence: String?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let fence = inFence {
                if trimmed == fence { inFence = nil }
                continue
            }
            if trimmed.hasPrefix("```") {
                inFence = String(trimmed.prefix { $0 == "`" })
                #expect(inFence!.count >= 4, "the fence outgrows the log's ```")
                continue
            }
            var previous: Character = " "
            for character in line {
                if character == "<" { #expect(previous == "\\", "unescaped < in: \(line)") }
                previous = character
            }
        }
        #expect(inFence == nil, "every fence is closed")
    }

    @Test func theFormatFollowsTheFileName() {
        #expect(ReportFormat(fileName: "r.md") == .markdown)
        #expect(ReportFormat(fileName: "R.HTML") == .html)
        #expect(ReportFormat(fileName: "r.sarif") == .sarif)
        #expect(ReportFormat(fileName: "r.sarif.json") == .sarif)
        #expect(ReportFormat(fileName: "r.json") == .json)
        #expect(ReportFormat(fileName: "junit.xml") == .junit)
        #expect(ReportFormat(fileName: "r.txt") == nil)
    }
}

@Suite struct ExplainTests {
    let knowledge: KnowledgeBase

    init() throws { knowledge = try ReportFixtures.knowledge }

    @Test func anOCSCodeInAnySpellingNamesItsKnownIssue() throws {
        for spelling in ["0xC3EC796C", "0xc3ec796c", "3287054700", "-1007912596"] {
            let explanation = try #require(Explanation(spelling, knowledge: knowledge))
            #expect(explanation.code == "0xC3EC796C")
            #expect(explanation.knownIssues.map(\.id) == ["KI-09"], "\(spelling)")
            #expect(explanation.known)
        }
    }

    @Test func aWin32HRESULTDecodesAndFindsBothMeanings() throws {
        let explanation = try #require(Explanation("0x80070005", knowledge: knowledge))
        #expect(explanation.decoded == "failure, Win32, code 5")
        #expect(Set(explanation.meanings.map(\.kind)) == [.hresult, .win32])
        #expect(explanation.knownIssues.map(\.id) == ["KI-05"])
    }

    @Test func anMSICodeAndAKnownIssueID() throws {
        let msi = try #require(Explanation("1603", knowledge: knowledge))
        #expect(msi.meanings.contains { $0.kind == .msi && $0.meaning.contains("Fatal error") })
        #expect(msi.knownIssues.map(\.id) == ["KI-18"])
        let issue = try #require(Explanation("ki-01", knowledge: knowledge))
        #expect(issue.code == nil && issue.knownIssues.first?.id == "KI-01")
        #expect(issue.text.contains("fix: "))
    }

    @Test func anUnknownCodeIsHonestAndStillDecoded() throws {
        let explanation = try #require(Explanation("0x8007FFFE", knowledge: knowledge))
        #expect(!explanation.known)
        #expect(explanation.decoded == "failure, Win32, code 65534")
        #expect(explanation.text.contains("not in the knowledge base"))
        #expect(Explanation("hello", knowledge: knowledge) == nil)
        #expect(Explanation("0x1FFFFFFFF", knowledge: knowledge) == nil)
    }
}

/// The scan's JSON is written with its inputs one at a time (a pipe of thousands of logs): the
/// bytes must be those of the whole document encoded at once.
@Suite struct StreamedJSONTests {
    @Test func writingTheInputsOneAtATimeGivesTheSameBytes() throws {
        let analyzer = Analyzer(knowledge: try ReportFixtures.knowledge)
        let (inputs, _) = InputFile.expand([ReportFixtures.corpus.appendingPathComponent("logs").path])
        for input in inputs { try analyzer.analyze(input) }
        let result = analyzer.result()
        #expect(result.inputs.count > 50)
        for cut in [
            result,
            {
                var one = result
                one.inputs = Array(result.inputs.prefix(1))
                return one
            }(),
        ] {
            var shell = cut
            shell.inputs = []
            var written = Data()
            try JSONDocument.write(cut, shell: shell, streaming: "inputs", elements: cut.inputs) { written.append($0) }
            #expect(String(decoding: written, as: UTF8.self) == (try JSONDocument.render(cut)) + "\n")
        }
    }
}

extension ReportFormat {
    /// The snapshot file's extension.
    var fileExtension: String { self == .junit ? "junit.xml" : rawValue }
}
