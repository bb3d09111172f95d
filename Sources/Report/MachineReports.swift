import Foundation
import Knowledge
import ScanModel

/// The report as JSON: the scan contract (inputs, exceptions, findings with their score and
/// reasons, not understood, summary) plus the headline, the verdict and the status of each role.
enum JSONReport {
    static func render(_ document: ReportDocument) throws -> String {
        try JSONDocument.render(document) + "\n"
    }
}

/// The report as SARIF 2.1.0: one run, one rule per signature (stable ids), one result per
/// finding with its location and a `partialFingerprints` entry that survives line changes.
enum SARIFReport {
    struct Log: Encodable {
        var schema = "https://json.schemastore.org/sarif-2.1.0.json"
        var version = "2.1.0"
        var runs: [Run]
        enum CodingKeys: String, CodingKey {
            case schema = "$schema"
            case version, runs
        }
    }
    struct Run: Encodable {
        var tool: Tool
        var results: [Result]
        var artifacts: [Artifact]
    }
    struct Tool: Encodable { var driver: Driver }
    struct Driver: Encodable {
        var name = "ocslog"
        var version: String
        var rules: [Rule]
    }
    struct Message: Encodable { var text: String }
    struct Rule: Encodable {
        var id: String
        var name: String
        var shortDescription: Message
        var fullDescription: Message?
        var help: Message?
        var defaultConfiguration: Configuration
    }
    struct Configuration: Encodable { var level: String }
    struct Result: Encodable {
        var ruleId: String
        var ruleIndex: Int
        var level: String
        var message: Message
        var locations: [Location]
        var partialFingerprints: [String: String]
        var rank: Double
        var properties: Properties
    }
    struct Properties: Encodable {
        var role: RoleID
        var code: String?
        var knownIssue: String?
        var count: Int
        var score: Int
        var reasons: [String]
        var consequence: Bool
    }
    struct Location: Encodable { var physicalLocation: PhysicalLocation }
    struct PhysicalLocation: Encodable {
        var artifactLocation: ArtifactLocation
        var region: Region
    }
    struct ArtifactLocation: Encodable {
        var uri: String
        var index: Int?
    }
    struct Region: Encodable {
        var startLine: Int
        var snippet: Message?
    }
    struct Artifact: Encodable {
        var location: ArtifactLocation
        var encoding: String?
    }

    static func level(_ severity: Severity) -> String {
        switch severity {
        case .error: "error"
        case .warning: "warning"
        case .info: "note"
        }
    }

    /// A file path as a relative URI reference (percent-encoded; `-` for standard input stays as is).
    static func uri(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: ":")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }

    static func render(_ document: ReportDocument) throws -> String {
        var rules: [Rule] = []
        var ruleIndex: [String: Int] = [:]
        for finding in document.findings where ruleIndex[finding.signature] == nil {
            ruleIndex[finding.signature] = rules.count
            rules.append(
                Rule(
                    id: finding.signature, name: finding.signature, shortDescription: Message(text: finding.title),
                    fullDescription: finding.explanation.map(Message.init),
                    help: finding.fix.map(Message.init),
                    defaultConfiguration: Configuration(level: level(finding.severity))))
        }
        let artifacts = document.inputs.map {
            Artifact(location: ArtifactLocation(uri: uri($0.path), index: nil), encoding: $0.encoding)
        }
        let artifactIndex = Dictionary(
            document.inputs.enumerated().map { ($1.path, $0) }, uniquingKeysWith: { first, _ in first })
        let highest = document.findings.map(\.score).max() ?? 1
        let results = document.findings.map { finding in
            var text = finding.title
            if let code = finding.code { text += " [\(code)]" }
            if finding.count > 1 { text += " (×\(finding.count))" }
            if let fix = finding.fix { text += ". Fix: \(fix)" }
            let locations = finding.evidence.prefix(1).map { evidence in
                Location(
                    physicalLocation: PhysicalLocation(
                        artifactLocation: ArtifactLocation(
                            uri: uri(evidence.path), index: artifactIndex[evidence.path]),
                        region: Region(startLine: max(1, evidence.line), snippet: evidence.text.map(Message.init))))
            }
            return Result(
                ruleId: finding.signature, ruleIndex: ruleIndex[finding.signature] ?? 0, level: level(finding.severity),
                message: Message(text: text), locations: locations,
                partialFingerprints: ["ocslogGroup/v1": ReportDocument.fingerprint(finding)],
                rank: highest > 0 ? (Double(max(0, finding.score)) * 100 / Double(highest)).rounded() : 0,
                properties: Properties(
                    role: finding.role, code: finding.code, knownIssue: finding.knownIssue, count: finding.count,
                    score: finding.score, reasons: finding.reasons, consequence: finding.consequence))
        }
        let log = Log(
            runs: [
                Run(
                    tool: Tool(driver: Driver(version: document.generator, rules: rules)), results: results,
                    artifacts: artifacts)
            ])
        return try JSONDocument.render(log) + "\n"
    }
}

/// The report as JUnit XML: one test case per role, a failure per error, warnings in the output.
enum JUnitReport {
    static func render(_ document: ReportDocument) -> String {
        let failures = document.roles.filter { $0.errors > 0 }.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"ocslog\" tests=\"\(document.roles.count)\" failures=\"\(failures)\" errors=\"0\">\n"
        out += "  <testsuite name=\"ocslog scan\" tests=\"\(document.roles.count)\" failures=\"\(failures)\" "
        out += "errors=\"0\" skipped=\"0\">\n"
        for role in document.roles {
            let findings = document.findings.filter { role.holds(role: $0.role, server: $0.server) }
            out += "    <testcase classname=\"ocslog.\(escape(role.role.rawValue))\" name=\"\(escape(role.name))\">\n"
            for finding in findings where finding.severity == .error {
                var message = "#\(finding.rank) \(finding.title)"
                if let code = finding.code { message += " [\(code)]" }
                out += "      <failure type=\"\(escape(finding.knownIssue ?? finding.signature))\" "
                out += "message=\"\(escape(message))\">"
                var body = finding.evidence.map { "\($0.location): \($0.text ?? "")" }.joined(separator: "\n")
                if let fix = finding.fix { body += "\nFix: \(fix)" }
                out += escape(body) + "</failure>\n"
            }
            let others = findings.filter { $0.severity != .error }
            let exceptions = document.exceptions.filter { role.holds(role: $0.role, server: $0.server) }
            if !others.isEmpty || !exceptions.isEmpty {
                var text = others.map {
                    "#\($0.rank) \($0.severity.rawValue): \($0.title) at \($0.evidence[0].location)"
                }
                text += exceptions.map {
                    "exception \($0.protocol.rawValue)/\(ReportDocument.ports($0)) (\($0.origin.rawValue)) at "
                        + "\($0.evidence.location)"
                }
                out += "      <system-out>\(escape(text.joined(separator: "\n")))</system-out>\n"
            }
            out += "    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    /// Text for XML attributes and content; characters XML 1.0 cannot carry become U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
