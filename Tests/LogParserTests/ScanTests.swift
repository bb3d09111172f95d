import Foundation
import Knowledge
import PCRE2
import ScanModel
import TestSupport
import Testing
import Yams

@testable import LogParser

/// The scan expectations a corpus log carries (beside its record expectations).
struct ScanExpectation: Decodable {
    struct FindingCheck: Decodable {
        let severity: String?
        let code: String?
        let knownIssue: String?
        let line: Int?
        let role: RoleID?
        let event: Int?
        let consequence: Bool?

        enum CodingKeys: String, CodingKey {
            case severity, code, line, role, event, consequence
            case knownIssue = "known_issue"
        }

        func matches(_ finding: Finding) -> Bool {
            (severity == nil || finding.severity.rawValue == severity) && (code == nil || finding.code == code)
                && (knownIssue == nil || finding.knownIssue == knownIssue)
                && (line == nil || finding.evidence[0].line == line)
                && (role == nil || finding.role == role) && (event == nil || finding.event == event)
                && (consequence == nil || finding.consequence == consequence)
        }
    }

    let role: RoleID
    /// The computer the log states (nil: it states none).
    let server: String?
    let exceptions: [String]
    let root: FindingCheck?
    let findings: [FindingCheck]
    /// Lines left "not understood" on purpose (a manual instruction a person should read); 0 when absent.
    let notUnderstood: Int?
    /// For firewall records: the rules no ruleset carries (`disabled line 16`), and the open ports
    /// of rules that are not OCS's (`tcp 445`); both empty when absent.
    let firewallRules: [String]?
    let otherExceptions: [String]?

    enum CodingKeys: String, CodingKey {
        case role, server, exceptions, root, findings
        case notUnderstood = "not_understood"
        case firewallRules = "firewall_rules"
        case otherExceptions = "other_exceptions"
    }
}

enum ScanFixtures {
    /// The built-in knowledge (a load failure fails the test that reads it).
    static var knowledge: KnowledgeBase { get throws { try Fixtures.knowledge() } }

    static func scan(_ paths: [String], roles: [String] = []) throws -> ScanResult {
        let analyzer = Analyzer(knowledge: try knowledge, options: AnalysisOptions(roles: roles.map { RoleID($0) }))
        let (inputs, errors) = InputFile.expand(paths)
        if let error = errors.first { throw error }
        for input in inputs { try analyzer.analyze(input) }
        return analyzer.result()
    }

    /// `edge tcp 443 external`, `front-end tcp 5072 documented`.
    static func describe(_ exception: FirewallException) -> String {
        var parts = [exception.role.rawValue, exception.protocol.rawValue]
        parts.append(
            exception.portFrom == exception.portTo
                ? "\(exception.portFrom)" : "\(exception.portFrom)-\(exception.portTo)")
        if let interface = exception.interface { parts.append(interface.rawValue) }
        if exception.origin == .documented || exception.origin == .firewall { parts.append(exception.origin.rawValue) }
        if let remote = exception.remote { parts.append("from " + remote.joined(separator: ",")) }
        return parts.joined(separator: " ")
    }
}

@Suite struct ScanTests {
    static func expectation(for path: String) throws -> ScanExpectation {
        let relative = String(path.dropFirst(Corpus.logsRoot.path.count + 1))
        let file = Corpus.expectedRoot.appendingPathComponent(relative + ".yaml").path
        return try YAMLDecoder().decode(ScanExpectation.self, from: String(contentsOfFile: file, encoding: .utf8))
    }

    @Test(arguments: try Corpus.logs())
    func findsExactlyTheExpectedExceptionsAndFindings(path: String) throws {
        let expected = try Self.expectation(for: path)
        let result = try ScanFixtures.scan([path])
        #expect(result.inputs.first?.role == expected.role)
        #expect(result.inputs.first?.server == expected.server)
        #expect(result.exceptions.map(ScanFixtures.describe).sorted() == expected.exceptions.sorted())
        if let root = expected.root {
            let first = try #require(result.findings.first, "no finding")
            #expect(root.matches(first), "first-ranked finding: \(first.title) at line \(first.evidence[0].line)")
        } else {
            #expect(result.findings.isEmpty, "\(result.findings.map(\.title))")
        }
        for check in expected.findings {
            #expect(result.findings.contains(where: check.matches), "missing \(check)")
        }
        #expect(result.inputs.reduce(0) { $0 + $1.notUnderstood } == expected.notUnderstood ?? 0)
        #expect(
            (result.firewallRules ?? []).map { "\($0.status) line \($0.evidence.line)" }.sorted()
                == (expected.firewallRules ?? []).sorted())
        #expect(
            (result.otherExceptions ?? []).map {
                "\($0.protocol) \($0.portFrom == $0.portTo ? "\($0.portFrom)" : "\($0.portFrom)-\($0.portTo)")"
                    + ($0.remote.map { " from " + $0.joined(separator: ",") } ?? "")
            }.sorted() == (expected.otherExceptions ?? []).sorted())
    }

    /// A deployment's logs in one folder, checked against its author's table: each log's role in the
    /// deployment, the computer it states and the ports it states were opened — servers named in
    /// two spellings are one, a log without a role takes its server's, and no name is guessed.
    @Test(arguments: ["contoso-deployment", "fabrikam-deployment"])
    func aDeploymentFolderGivesEachLogItsServerAndRole(deployment: String) throws {
        struct Table: Decodable {
            struct Log: Decodable {
                let file: String
                let role: RoleID
                let server: String?
                let ports: [String]
            }
            let logs: [Log]
        }
        let table = try YAMLDecoder().decode(
            Table.self,
            from: String(
                contentsOfFile: Corpus.expectedRoot.appendingPathComponent("\(deployment)/deployment.yaml").path,
                encoding: .utf8))
        let result = try ScanFixtures.scan([Corpus.logsRoot.appendingPathComponent(deployment).path])
        #expect(result.inputs.count == table.logs.count)
        for log in table.logs {
            let input = try #require(result.inputs.first { $0.path.hasSuffix("/" + log.file) }, "\(log.file)")
            #expect(input.role == log.role, "\(log.file)")
            #expect(input.server == log.server, "\(log.file)")
            let stated = result.exceptions.filter { $0.origin == .log && $0.evidence.path == input.path }.map {
                "\($0.protocol)/\($0.portFrom == $0.portTo ? "\($0.portFrom)" : "\($0.portFrom)-\($0.portTo)")"
            }
            #expect(stated.sorted() == log.ports.sorted(), "\(log.file)")
            for exception in result.exceptions where exception.evidence.path == input.path {
                #expect(exception.server == log.server && exception.role == log.role, "\(log.file)")
            }
            // Every finding names the server its log states (a finding's role may be its own: an event's source).
            for finding in result.findings where finding.evidence[0].path == input.path {
                #expect(finding.server == log.server, "\(log.file): \(finding.title)")
            }
        }
        #expect(
            result.summary.servers
                == Set(table.logs.compactMap(\.server)).sorted { $0.lowercased() < $1.lowercased() })
    }

    @Test func firewallStoppedWarnsWithTheFix() throws {
        let result = try ScanFixtures.scan([Corpus.logsRoot.appendingPathComponent("firewall-stopped").path])
        let warning = try #require(result.findings.first { $0.knownIssue == "KI-01" })
        #expect(warning.severity == .warning)
        #expect(warning.fix?.contains("Start Windows Firewall") == true)
        #expect(result.exceptions.isEmpty)
    }

    /// Absence is not evidence: an activation log without exceptions and without a line saying why
    /// gets a note that says exactly that, never "the firewall was stopped".
    @Test func activationWithoutExceptionsIsANoteNotAStoppedFirewall() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ocslog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("Activate Mediation Server.html")
        try """
        <html><head><title>Activate Mediation Server</title></head><body>
        <div name="Activate Mediation Server"><div name="Start services"><div>Service started</div>
        <div>Execution Result: &lt;Success&gt;</div></div></div></body></html>
        """.write(to: log, atomically: true, encoding: .utf8)
        let result = try ScanFixtures.scan([log.path])
        let note = try #require(result.findings.first)
        #expect(note.knownIssue == "KI-19")
        #expect(note.severity == .info)
        #expect(note.title == "No firewall exceptions found in the activation log")
        #expect(note.role == "mediation")
        #expect(!result.findings.contains { $0.knownIssue == "KI-01" })
    }

    /// A firewall section whose entries could not be read reports them, and no "no exceptions" note.
    @Test func anUnreadableFirewallSectionIsReportedNotInferredAway() throws {
        let log = """
            <html><head><title>Activate Mediation Server</title></head><body>
            <div name="Activate Mediation Server"><div name="Add firewall exceptions">
            <div>Firewall exception: Name=Mediation SIP; Port=dynamic; Protocol=TCP</div>
            <div>Execution Result: &lt;Success&gt;</div></div></div></body></html>
            """
        let analyzer = Analyzer(knowledge: try ScanFixtures.knowledge)
        try analyzer.analyze(InputFile(path: "Activate Mediation Server.html", contents: Array(log.utf8)))
        let result = analyzer.result()
        #expect(result.exceptions.isEmpty)
        let warning = try #require(result.findings.first)
        #expect(warning.severity == .warning)
        #expect(warning.title.contains("not understood") && warning.title.contains("dynamic"))
        #expect(warning.evidence.first?.line == 3)
        #expect(!result.findings.contains { $0.knownIssue == "KI-19" || $0.knownIssue == "KI-01" })
    }

    @Test func backEndRoleGetsTheSQLReminder() throws {
        let result = try ScanFixtures.scan([Corpus.logsRoot.appendingPathComponent("back-end").path])
        let reminder = try #require(result.findings.first { $0.knownIssue == "KI-02" })
        #expect(reminder.role == "back-end")
        #expect(reminder.fix?.contains("1433") == true)
    }

    @Test func roleOverrideWins() throws {
        let result = try ScanFixtures.scan(
            [Corpus.logsRoot.appendingPathComponent("director").path], roles: ["front-end"])
        #expect(result.exceptions.allSatisfy { $0.role == "front-end" })
        #expect(result.inputs.allSatisfy { $0.role == "front-end" })
    }

    @Test func invalidPortsBecomeFindingsNotExceptions() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ocslog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("exceptions.log")
        try """
        Added firewall exception: port 0/TCP
        Added firewall exception: port 70000/TCP
        Added firewall exception: ports 5070-5060/TCP
        Added firewall exception: port 5061/TCP
        """.write(to: log, atomically: true, encoding: .utf8)
        let result = try ScanFixtures.scan([log.path])
        #expect(result.exceptions.map { "\($0.portFrom)-\($0.portTo)" } == ["5061-5061"])
        #expect(result.findings.filter { $0.signature == "invalid-exception-port" }.count == 3)
    }

    @Test func repeatsAreGroupedWithFirstAndLastEvidence() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ocslog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("service.log")
        try """
        10:00:01 Service 'RTCSRV' failed to start after 30 seconds
        10:05:17 Service 'RTCSRV' failed to start after 45 seconds
        10:09:00 Service 'RTCSRV' failed to start after 60 seconds
        """.write(to: log, atomically: true, encoding: .utf8)
        let result = try ScanFixtures.scan([log.path])
        let finding = try #require(result.findings.first)
        #expect(result.findings.count == 1)
        #expect(finding.count == 3)
        #expect(finding.evidence.map(\.line) == [1, 3])
    }
}

@Suite struct SignatureCoverageTests {
    /// Parses a signature's sample as the format it names and returns its records' matching signatures.
    static func signaturesMatching(_ sample: SignatureSample) throws -> [[String]] {
        let analyzer = Analyzer(knowledge: try ScanFixtures.knowledge)
        var text = sample.text
        var hint = LogFormat.plainText
        switch sample.format {
        case "msi": hint = .msiVerbose
        case "event": hint = .eventText
        case "html":
            hint = .deploymentHTML
            let context = sample.context ?? "Sample step"
            text = "<html><body><div name=\"\(context)\"><div>\(text)</div></div></body></html>"
        default: break
        }
        var stream = LogStream(path: "sample", formatHint: hint)
        var found: [[String]] = []
        let reader = LineReader(source: MemorySource(Array(text.utf8)))
        try reader.forEachLine { line in stream.parse(line) { found.append(analyzer.signatures(matching: $0)) } }
        stream.finish { found.append(analyzer.signatures(matching: $0)) }
        return found
    }

    @Test func everySampleMatchesItsSignature() throws {
        for signature in try ScanFixtures.knowledge.signatures {
            for sample in signature.samples {
                if signature.type == .field {
                    // Field extractors run on exception records; their samples are fragments of one.
                    #expect(
                        signature.pattern?.matches(sample.text) == true,
                        "\(signature.id): \(sample.text.debugDescription)")
                    continue
                }
                let matched = try Self.signaturesMatching(sample)
                #expect(
                    matched.contains { $0.contains(signature.id) },
                    "\(signature.id): sample \(sample.text.debugDescription) matched \(matched)")
            }
        }
    }

    @Test func everyPatternSamplePassesThePrefilter() throws {
        let analyzer = Analyzer(knowledge: try ScanFixtures.knowledge)
        for signature in try ScanFixtures.knowledge.signatures
        where signature.pattern != nil && signature.type != .field {
            for sample in signature.samples where sample.format == nil {
                #expect(analyzer.passesPrefilter(sample.text), "\(signature.id): \(sample.text)")
            }
        }
    }

    @Test func everySignatureMatchesSomethingInTheCorpus() throws {
        let analyzer = Analyzer(knowledge: try ScanFixtures.knowledge)
        var seen = Set<String>()
        for path in try Corpus.logs() {
            _ = try InputFile(path: path).parse { seen.formUnion(analyzer.signatures(matching: $0)) }
        }
        let unused = try ScanFixtures.knowledge.signatures.map(\.id).filter { !seen.contains($0) }
        #expect(unused.isEmpty, "signatures with no sample in corpus/logs: \(unused)")
    }

    /// Every known issue is reached by a log: one of the corpus's scenario folders (each scanned
    /// as a user would scan it), or — for the one no corpus log shows — a sample here.
    @Test func everyKnownIssueIsReachedByALog() throws {
        var reached = Set<String>()
        let logs = Corpus.logsRoot
        for scenario in try FileManager.default.contentsOfDirectory(atPath: logs.path).sorted() {
            let result = try ScanFixtures.scan([logs.appendingPathComponent(scenario).path])
            reached.formUnion(result.findings.compactMap(\.knownIssue))
        }
        // KI-19: an activation log read cleanly, without an exception entry or a reason for none.
        let activation = """
            <html><head><title>Activate Enterprise Edition Server</title></head><body>
            <div name="Activate Enterprise Edition Server">
            <div name="Start services"><div>Execution Result: Success</div></div>
            </div></body></html>
            """
        let analyzer = Analyzer(knowledge: try ScanFixtures.knowledge)
        try analyzer.analyze(InputFile(path: "Activate.html", contents: Array(activation.utf8)))
        reached.formUnion(analyzer.result().findings.compactMap(\.knownIssue))
        for issue in try ScanFixtures.knowledge.knownIssues {
            #expect(reached.contains(issue.id), "\(issue.id) (\(issue.title)) is reached by no log")
            #expect(!issue.fix.isEmpty && !issue.explanation.isEmpty, "\(issue.id)")
        }
    }
}

/// A new language or wording is a data change: words added in a `--knowledge` folder make a shape
/// work that the built-in words do not read.
@Suite struct FieldVocabularyTests {
    static let log = """
        === Verbose logging started: 3/8/2010  09:14:27  Build type: SHIP UNICODE 4.05.6001.00  Calling process: C:\\Windows\\system32\\msiexec.exe ===
        Property(S): ProductName = Microsoft Office Communications Server 2007 R2, Mediation Server
        Action start 9:14:31: CA_AddFirewallExceptions.
        CA_AddFirewallExceptions: Uitzondering toegevoegd: Naam=Mediation SIP; Protocol=TCP; Poort=5061
        CA_AddFirewallExceptions: Uitzondering voor poort 5062 met protocol TCP aangemaakt
        Action ended 9:14:32: CA_AddFirewallExceptions. Return value 1.
        """

    static func exceptions(_ knowledge: KnowledgeBase) throws -> [String] {
        let analyzer = Analyzer(knowledge: knowledge)
        try analyzer.analyze(InputFile(path: "MSI1.LOG", contents: Array(log.utf8)))
        return analyzer.result().exceptions.filter { $0.origin == .log }.map(ScanFixtures.describe).sorted()
    }

    @Test func aWordAddedInAKnowledgeFolderMakesANewShapeWork() throws {
        #expect(try Self.exceptions(try ScanFixtures.knowledge).isEmpty, "the built-in words do not read Dutch")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ocslog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
        vocabulary:
          keys:
            port: [poort]
            name: [naam]
          port-words: [poort, poorten]
          joiners: [met]
        """.write(to: folder.appendingPathComponent("dutch.yaml"), atomically: true, encoding: .utf8)
        let taught = try KnowledgeBase.load(overrides: folder.path)
        #expect(try Self.exceptions(taught) == ["mediation tcp 5061", "mediation tcp 5062"])
    }

    @Test func aBadVocabularyNamesTheFileAndTheEntry() throws {
        do {
            _ = try KnowledgeBase.embedded(adding: "vocabulary:\n  keys:\n    colour: [farbe]\n", file: "bad.yaml")
            Issue.record("an unknown field was accepted")
        } catch {
            #expect(error.description.contains("bad.yaml") && error.description.contains("colour"))
        }
    }
}
