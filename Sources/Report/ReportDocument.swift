import Knowledge
import ScanModel

/// Everything a report shows, computed once from a scan result and the knowledge, so that every
/// format says the same thing: the verdict, the status of each role, and the ranked findings.
public struct ReportDocument: Sendable, Codable {
    public var schemaVersion = 1
    public var generator: String
    /// One sentence a reviewer reads first ("Front End …: Activate … failed: Security update KB974571 is installed").
    public var headline: String
    public var verdict: Verdict
    public var roles: [RoleStatus]
    public var inputs: [InputResult]
    public var exceptions: [FirewallException]
    public var findings: [Finding]
    public var notUnderstood: [LineGroup]
    public var codes: [String: [CodeMeaning]]
    public var summary: ScanResult.Summary
    /// The firewall records' rules no ruleset carries, per server: counts by status, and the ones
    /// an operator should look at (all but other products' rules), at most ``maximumFirewallRules``.
    public var firewallRecords: [FirewallRecordStatus]?

    /// The most rules a report lists one by one.
    public static let maximumFirewallRules = 50

    /// One server's firewall record, as the report shows it.
    public struct FirewallRecordStatus: Sendable, Codable {
        public var server: String?
        /// `disabled: 2`, `other: 14`, … in status order.
        public var counts: [String: Int]
        public var rules: [FirewallRuleNote]
    }

    public enum Verdict: String, Sendable, Codable {
        case failed, warnings, ok
    }

    /// How one role fared: its findings and its firewall exceptions against the documented ports.
    public struct RoleStatus: Sendable, Codable {
        public var role: RoleID
        /// The server, when the logs stated it (each server's roles have a status of their own).
        public var server: String?
        public var name: String
        public var status: Verdict
        public var errors: Int
        public var warnings: Int
        public var notes: Int
        /// Exceptions the logs opened for this role (origin `log`).
        public var exceptionsFromLogs: Int
        /// Open ports the server's own firewall record has for this role (origin `firewall`); nil when
        /// no firewall record of the server was read.
        public var exceptionsInFirewall: Int?
        /// Documented ports of the role (ports.yaml), and how many the logs' exceptions cover.
        public var documentedPorts: Int
        public var documentedCovered: Int
        /// Documented ports no exception from the logs covers (`tcp/5061`), when there were exceptions at all.
        public var missing: [String]

        /// Whether a finding or exception of this role on this server belongs here.
        public func holds(role: RoleID, server: String?) -> Bool { self.role == role && self.server == server }
    }

    public init(result: ScanResult, knowledge: KnowledgeBase, generator: String) {
        self.generator = generator
        inputs = result.inputs
        exceptions = result.exceptions
        findings = result.findings
        notUnderstood = result.notUnderstood
        summary = result.summary
        var codes: [String: [CodeMeaning]] = [:]
        for code in Set(result.findings.compactMap(\.code)) {
            let meanings = knowledge.meanings(of: code)
            if !meanings.isEmpty { codes[code] = meanings }
        }
        self.codes = codes
        roles = result.serverRoles.map { group in
            Self.status(of: group, result: result, knowledge: knowledge)
        }
        verdict = result.summary.errors > 0 ? .failed : result.summary.warnings > 0 ? .warnings : .ok
        if let notes = result.firewallRules, !notes.isEmpty {
            var order: [String?] = []
            var byServer: [String?: FirewallRecordStatus] = [:]
            var listed = 0
            for note in notes {
                if byServer[note.server] == nil {
                    order.append(note.server)
                    byServer[note.server] = FirewallRecordStatus(server: note.server, counts: [:], rules: [])
                }
                byServer[note.server]?.counts[note.status, default: 0] += 1
                if note.status != "other", listed < Self.maximumFirewallRules {
                    byServer[note.server]?.rules.append(note)
                    listed += 1
                }
            }
            firewallRecords = order.compactMap { byServer[$0] }
        }
        headline = Self.headline(result: result, knowledge: knowledge)
    }

    private static func status(of group: ServerRole, result: ScanResult, knowledge: KnowledgeBase) -> RoleStatus {
        let role = group.role
        let findings = result.findings.filter { $0.role == role && $0.server == group.server }
        let errors = findings.filter { $0.severity == .error }.count
        let warnings = findings.filter { $0.severity == .warning }.count
        let fromLogs = result.exceptions.filter {
            $0.role == role && $0.server == group.server && $0.origin == .log
        }
        let hasRecord =
            result.inputs.contains {
                $0.server == group.server && $0.format.isFirewallRecord
            } || (result.firewallRules ?? []).contains { $0.server == group.server }
            || result.exceptions.contains { $0.server == group.server && $0.origin == .firewall }
        let inFirewall = result.exceptions.filter {
            $0.role == role && $0.server == group.server && $0.origin == .firewall
        }.count
        let documented = knowledge.ports.filter { $0.role == role }
        var covered = 0
        var missing: [String] = []
        for port in documented {
            for transport in port.protocols {
                let isCovered = fromLogs.contains { exception in
                    exception.protocol == transport && exception.portFrom <= Int(port.range.lowerBound.rawValue)
                        && exception.portTo >= Int(port.range.upperBound.rawValue)
                }
                if isCovered {
                    covered += 1
                } else {
                    missing.append("\(transport.rawValue)/\(port.range)")
                }
            }
        }
        let total = documented.reduce(0) { $0 + $1.protocols.count }
        return RoleStatus(
            role: role, server: group.server,
            name: group.heading(roleName: knowledge.role(role)?.name ?? role.rawValue),
            status: errors > 0 ? .failed : warnings > 0 ? .warnings : .ok, errors: errors, warnings: warnings,
            notes: findings.count - errors - warnings, exceptionsFromLogs: fromLogs.count,
            exceptionsInFirewall: hasRecord ? inFirewall : nil, documentedPorts: total,
            documentedCovered: covered, missing: fromLogs.isEmpty ? [] : missing)
    }

    private static func headline(result: ScanResult, knowledge: KnowledgeBase) -> String {
        let inputs = "\(result.inputs.count) input\(result.inputs.count == 1 ? "" : "s")"
        guard let top = result.findings.first, top.severity != .info else {
            let roles = result.summary.roles.filter { $0 != Role.unknownID }
            return "No errors or warnings in \(inputs); \(result.summary.exceptions) firewall exception"
                + "\(result.summary.exceptions == 1 ? "" : "s") found"
                + (roles.isEmpty
                    ? "" : " for \(roles.map { knowledge.role($0)?.name ?? $0.rawValue }.joined(separator: ", "))")
        }
        let roleName = knowledge.role(top.role)?.name ?? top.role.rawValue
        let cause = top.knownIssue.flatMap { id in knowledge.knownIssues.first { $0.id == id }?.title } ?? top.title
        let isMSI = result.inputs.first { $0.path == top.evidence.first?.path }?.format == .msiVerbose
        let step = isMSI ? top.context.last.map { "action \($0)" } : top.context.first
        var headline = top.role == Role.unknownID ? "" : "\(roleName): "
        if top.severity == .error {
            headline += "\(step ?? "setup") failed: \(cause)"
        } else {
            headline += "\(cause) (warning)"
        }
        if let code = top.code, !headline.contains(code) { headline += " [\(code)]" }
        return headline
    }

    /// What could not be read of an input, in words ("" when everything was read).
    public static func unread(_ input: InputResult) -> String {
        var parts: [String] = []
        let skipped = input.skipped
        if skipped.longLines > 0 { parts.append("\(skipped.longLines) long lines cut (\(skipped.bytes) bytes)") }
        if skipped.undecodable > 0 { parts.append("\(skipped.undecodable) undecodable characters") }
        if skipped.windows1252Lines > 0 { parts.append("\(skipped.windows1252Lines) lines read as Windows-1252") }
        if skipped.binaryBytes > 0 { parts.append("\(skipped.binaryBytes) NUL bytes (binary data)") }
        if skipped.endedInsideRecord { parts.append("ended inside a record") }
        return parts.joined(separator: "; ")
    }

    /// The ports of an exception as `5061` or `50000-59999`.
    public static func ports(_ exception: FirewallException) -> String {
        exception.ports
    }

    /// A stable fingerprint (FNV-1a, 64 bits, hex) of a finding's server, role and grouping signature:
    /// the same failure gets the same fingerprint in every run, whatever its line numbers.
    public static func fingerprint(_ finding: Finding) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        // The server (lower-cased) when the logs stated one: two Front Ends' same failure are two results.
        let server = finding.server.map { $0.lowercased() + "|" } ?? ""
        for byte in (server + finding.role.rawValue + "|" + finding.group).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// The report formats.
public enum ReportFormat: String, Sendable, CaseIterable {
    case markdown = "md"
    case html
    case json
    case sarif
    case junit

    /// The format a file name's extension asks for (`.md`, `.html`, `.json`, `.sarif`, `.xml`).
    public init?(fileName: String) {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".sarif") || lower.hasSuffix(".sarif.json") {
            self = .sarif
        } else if lower.hasSuffix(".md") || lower.hasSuffix(".markdown") {
            self = .markdown
        } else if lower.hasSuffix(".html") || lower.hasSuffix(".htm") {
            self = .html
        } else if lower.hasSuffix(".json") {
            self = .json
        } else if lower.hasSuffix(".xml") || lower.hasSuffix(".junit") {
            self = .junit
        } else {
            return nil
        }
    }

    /// Renders a report document in this format.
    public func render(_ document: ReportDocument) throws -> String {
        switch self {
        case .markdown: MarkdownReport.render(document)
        case .html: HTMLReport.render(document)
        case .json: try JSONReport.render(document)
        case .sarif: try SARIFReport.render(document)
        case .junit: JUnitReport.render(document)
        }
    }
}
