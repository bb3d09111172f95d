import Foundation
import Knowledge
import ScanModel

/// What changed between two scans of the same servers (before and after a fix): per role, the
/// firewall exceptions added and removed, and the findings resolved, new and unchanged, matched
/// by their grouping signature (signature, code, masked message), never by line number.
public struct ScanDiff: Sendable, Codable {
    public var schemaVersion = 1
    public var old: Side
    public var new: Side
    public var roles: [RoleDiff]
    public var summary: Summary

    public struct Side: Sendable, Codable {
        public var label: String
        public var errors: Int
        public var warnings: Int
        public var exceptions: Int
    }

    public struct FindingRef: Sendable, Codable, Equatable {
        public var severity: Severity
        public var title: String
        public var code: String?
        public var knownIssue: String?
        public var count: Int
        public var evidence: Evidence
        public var group: String
    }

    public struct ExceptionRef: Sendable, Codable, Equatable {
        public var `protocol`: String
        public var ports: String
        public var interface: EdgeInterface?
        public var service: String?
        public var origin: ExceptionOrigin
        public var evidence: Evidence
    }

    public struct RoleDiff: Sendable, Codable {
        public var role: RoleID
        /// The server, when the logs stated it.
        public var server: String?
        public var exceptionsAdded: [ExceptionRef]
        public var exceptionsRemoved: [ExceptionRef]
        public var exceptionsUnchanged: Int
        public var findingsResolved: [FindingRef]
        public var findingsNew: [FindingRef]
        public var findingsUnchanged: [FindingRef]
    }

    public struct Summary: Sendable, Codable {
        public var exceptionsAdded: Int
        public var exceptionsRemoved: Int
        public var findingsResolved: Int
        public var findingsNew: Int
        public var findingsUnchanged: Int
    }

    public init(old: ScanResult, oldLabel: String, new: ScanResult, newLabel: String) {
        func side(_ result: ScanResult, _ label: String) -> Side {
            Side(
                label: label, errors: result.summary.errors, warnings: result.summary.warnings,
                exceptions: result.summary.exceptions)
        }
        self.old = side(old, oldLabel)
        self.new = side(new, newLabel)
        /// What makes two scans' exceptions the same: protocol, ports and Edge side.
        struct ExceptionKey: Hashable {
            var transport: TransportProtocol
            var range: PortRange
            var interface: EdgeInterface?
        }
        func exceptionKey(_ exception: FirewallException) -> ExceptionKey {
            ExceptionKey(transport: exception.protocol, range: exception.range, interface: exception.interface)
        }
        func exceptionRef(_ exception: FirewallException) -> ExceptionRef {
            ExceptionRef(
                protocol: exception.protocol.rawValue,
                ports: exception.ports,
                interface: exception.interface, service: exception.service, origin: exception.origin,
                evidence: exception.evidence)
        }
        func findingRef(_ finding: Finding) -> FindingRef {
            FindingRef(
                severity: finding.severity, title: finding.title, code: finding.code, knownIssue: finding.knownIssue,
                count: finding.count, evidence: finding.evidence[0], group: finding.group)
        }
        // Per server and role: two Front Ends of a pool are compared each with itself, and a server
        // is one server in both scans however each spelled it (FE01, fe01.contoso.com).
        let names = ServerNames(
            (old.serverRoles + new.serverRoles).compactMap(\.server))
        func same(_ server: String?) -> String? { server.map { names.canonical($0).lowercased() } }
        var groups: [ServerRole] = []
        for group in old.serverRoles + new.serverRoles {
            let shown = ServerRole(server: group.server.map(names.canonical), role: group.role)
            if !groups.contains(where: { $0.role == shown.role && same($0.server) == same(shown.server) }) {
                groups.append(shown)
            }
        }
        groups.sort(by: ServerRole.precedes)
        roles = groups.map { group in
            let role = group.role
            func mine(_ server: String?, _ itsRole: RoleID) -> Bool {
                itsRole == role && same(server) == same(group.server)
            }
            let oldExceptions = old.exceptions.filter { mine($0.server, $0.role) }
            let newExceptions = new.exceptions.filter { mine($0.server, $0.role) }
            let oldKeys = Set(oldExceptions.map(exceptionKey))
            let newKeys = Set(newExceptions.map(exceptionKey))
            let oldFindings = old.findings.filter { mine($0.server, $0.role) }
            let newFindings = new.findings.filter { mine($0.server, $0.role) }
            let oldGroups = Set(oldFindings.map(\.group))
            let newGroups = Set(newFindings.map(\.group))
            return RoleDiff(
                role: role, server: group.server,
                exceptionsAdded: newExceptions.filter { !oldKeys.contains(exceptionKey($0)) }.map(exceptionRef),
                exceptionsRemoved: oldExceptions.filter { !newKeys.contains(exceptionKey($0)) }.map(exceptionRef),
                exceptionsUnchanged: newExceptions.filter { oldKeys.contains(exceptionKey($0)) }.count,
                findingsResolved: oldFindings.filter { !newGroups.contains($0.group) }.map(findingRef),
                findingsNew: newFindings.filter { !oldGroups.contains($0.group) }.map(findingRef),
                findingsUnchanged: newFindings.filter { oldGroups.contains($0.group) }.map(findingRef))
        }
        summary = Summary(
            exceptionsAdded: roles.reduce(0) { $0 + $1.exceptionsAdded.count },
            exceptionsRemoved: roles.reduce(0) { $0 + $1.exceptionsRemoved.count },
            findingsResolved: roles.reduce(0) { $0 + $1.findingsResolved.count },
            findingsNew: roles.reduce(0) { $0 + $1.findingsNew.count },
            findingsUnchanged: roles.reduce(0) { $0 + $1.findingsUnchanged.count })
    }

    /// Whether NEW has a finding at least this severe that OLD did not have.
    public func hasNewFinding(atLeast threshold: Severity) -> Bool {
        roles.contains { $0.findingsNew.contains { $0.severity >= threshold } }
    }

    // MARK: - Rendering

    public enum Format: String, Sendable, CaseIterable {
        case text, md, json
    }

    public func render(_ format: Format) throws -> String {
        switch format {
        case .json:
            return try JSONDocument.render(self) + "\n"
        case .text: return renderText()
        case .md: return renderMarkdown()
        }
    }

    private func sideLine(_ side: Side) -> String {
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        return "\(count(side.errors, "error")), \(count(side.warnings, "warning")), "
            + count(side.exceptions, "firewall exception")
    }

    private static func describe(_ finding: FindingRef) -> String {
        var text = "\(finding.severity.rawValue)"
        if let code = finding.code { text += " \(code)" }
        text += ": \(finding.title)"
        if finding.count > 1 { text += " (×\(finding.count))" }
        if let issue = finding.knownIssue { text += " — \(issue)" }
        return text
    }

    private static func describe(_ exception: ExceptionRef) -> String {
        var text = "\(exception.protocol)/\(exception.ports)"
        if let interface = exception.interface { text += " (\(interface))" }
        if let service = exception.service { text += " \(service)" }
        if exception.origin != .log { text += " [\(exception.origin.rawValue)]" }
        return text
    }

    private func renderText() -> String {
        var out = "ocslog diff\n  old: \(old.label): \(sideLine(old))\n  new: \(new.label): \(sideLine(new))\n"
        out +=
            "  \(summary.findingsResolved) resolved, \(summary.findingsNew) new, \(summary.findingsUnchanged) unchanged; "
        out += "exceptions +\(summary.exceptionsAdded) -\(summary.exceptionsRemoved)\n"
        for role in roles {
            out += "\n\(ServerRole(server: role.server, role: role.role).heading(roleName: role.role.rawValue))\n"
            for finding in role.findingsResolved { out += "  resolved   \(Self.describe(finding))\n" }
            for finding in role.findingsNew {
                out += "  new        \(Self.describe(finding))  [\(finding.evidence.location)]\n"
            }
            for finding in role.findingsUnchanged { out += "  unchanged  \(Self.describe(finding))\n" }
            for exception in role.exceptionsAdded {
                out +=
                    "  + exception \(Self.describe(exception))  [\(exception.evidence.location)]\n"
            }
            for exception in role.exceptionsRemoved { out += "  - exception \(Self.describe(exception))\n" }
            if role.exceptionsUnchanged > 0 { out += "  \(role.exceptionsUnchanged) exceptions unchanged\n" }
        }
        return out
    }

    private func renderMarkdown() -> String {
        let escape = MarkdownReport.escape
        var out = "# ocslog diff\n\n"
        out += "| | Input | Errors | Warnings | Exceptions |\n|---|---|---:|---:|---:|\n"
        out += "| old | \(escape(old.label)) | \(old.errors) | \(old.warnings) | \(old.exceptions) |\n"
        out += "| new | \(escape(new.label)) | \(new.errors) | \(new.warnings) | \(new.exceptions) |\n\n"
        out += "\(summary.findingsResolved) findings resolved, \(summary.findingsNew) new, "
        out += "\(summary.findingsUnchanged) unchanged; firewall exceptions: \(summary.exceptionsAdded) added, "
        out += "\(summary.exceptionsRemoved) removed.\n"
        for role in roles {
            out +=
                "\n## \(escape(ServerRole(server: role.server, role: role.role).heading(roleName: role.role.rawValue)))\n\n"
            func list(_ title: String, _ items: [String]) {
                guard !items.isEmpty else { return }
                out += "\(title):\n\n" + items.map { "- \($0)\n" }.joined() + "\n"
            }
            list("Resolved", role.findingsResolved.map { escape(Self.describe($0)) })
            list(
                "New",
                role.findingsNew.map {
                    escape(Self.describe($0)) + " at " + escape($0.evidence.location)
                })
            list("Unchanged", role.findingsUnchanged.map { escape(Self.describe($0)) })
            list("Exceptions added", role.exceptionsAdded.map { escape(Self.describe($0)) })
            list("Exceptions removed", role.exceptionsRemoved.map { escape(Self.describe($0)) })
            if role.exceptionsUnchanged > 0 { out += "\(role.exceptionsUnchanged) exceptions unchanged.\n" }
        }
        return out
    }
}
