/// Where something was found: the input and line, and the line's text when it is shown.
public struct Evidence: Sendable, Codable, Hashable {
    public var path: String
    /// The log's number within its input, when the input held several (a stream, concatenated logs).
    public var log: Int?
    public var line: Int
    public var text: String?

    public init(path: String, log: Int? = nil, line: Int, text: String? = nil) {
        self.path = path
        self.log = log
        self.line = line
        self.text = text
    }

    /// Where it is, as people write it: `file:line`, or `-#3:326` for the third log of a stream.
    public var location: String { "\(path)\(log.map { "#\($0)" } ?? ""):\(line)" }
}

extension FirewallException {
    /// The first and last port (the JSON's `portFrom` and `portTo`).
    public var portFrom: Int { Int(range.lowerBound.rawValue) }
    public var portTo: Int { Int(range.upperBound.rawValue) }

    /// `5061` or `50000-59999`.
    public var ports: String { range.description }
}

/// Where a firewall exception comes from (its JSON value: `log`, `firewall`, `documented`).
public enum ExceptionOrigin: String, Sendable, Codable, Hashable, CaseIterable {
    /// A log named the port.
    case log
    /// The server's own firewall record has it.
    case firewall
    /// A role's or program's documented ports (the log named no port).
    case documented
}

/// A firewall exception setup added (origin `log`), the server's firewall has (`firewall`: an
/// exported rule, a rule-change event, netsh output), or a role is documented to need (`documented`).
public struct FirewallException: Sendable, Codable, Hashable {
    public var role: RoleID
    public var `protocol`: TransportProtocol
    /// The ports it opens: a valid range by construction (written in JSON as `portFrom`, `portTo`).
    public var range: PortRange
    /// The Edge's side.
    public var interface: EdgeInterface?
    public var program: String?
    public var service: String?
    /// `log` when the log named the port, `firewall` when the firewall's own record has it,
    /// `documented` when it came from the documented ports.
    public var origin: ExceptionOrigin
    public var evidence: Evidence
    /// How the entry was completed or interpreted, when it was ("protocol not stated; assumed tcp").
    public var note: String?
    /// The computer the log that states it ran on, when known.
    public var server: String?
    /// For origin `firewall`: the rule's name, its profiles (none: all), and the remote addresses it
    /// allows (none: any) — prefixes, or keywords such as `LocalSubnet` that name no fixed addresses.
    public var rule: String?
    public var profiles: [String]?
    public var remote: [String]?
    /// For origin `firewall`: the server's own addresses the rule is bound to (none: all of them).
    public var local: [String]?

    public init(
        role: RoleID, protocol: TransportProtocol, range: PortRange, interface: EdgeInterface?, program: String?,
        service: String?, origin: ExceptionOrigin, evidence: Evidence, note: String?, server: String? = nil
    ) {
        self.server = server
        self.role = role
        self.protocol = `protocol`
        self.range = range
        self.interface = interface
        self.program = program
        self.service = service
        self.origin = origin
        self.evidence = evidence
        self.note = note
    }
}

extension FirewallException {
    enum CodingKeys: String, CodingKey {
        case role, `protocol`, portFrom, portTo, interface, program, service, origin, evidence, note, server, rule
        case profiles, remote, local
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let from = try container.decode(Int.self, forKey: .portFrom)
        let to = try container.decode(Int.self, forKey: .portTo)
        guard let range = PortRange(from: from, to: to) else {
            throw DecodingError.dataCorruptedError(
                forKey: .portFrom, in: container,
                debugDescription: "portFrom \(from), portTo \(to): not a range of ports 1-65535 in order")
        }
        self.init(
            role: try container.decode(RoleID.self, forKey: .role),
            protocol: try container.decode(TransportProtocol.self, forKey: .protocol), range: range,
            interface: try container.decodeIfPresent(EdgeInterface.self, forKey: .interface),
            program: try container.decodeIfPresent(String.self, forKey: .program),
            service: try container.decodeIfPresent(String.self, forKey: .service),
            origin: try container.decode(ExceptionOrigin.self, forKey: .origin),
            evidence: try container.decode(Evidence.self, forKey: .evidence),
            note: try container.decodeIfPresent(String.self, forKey: .note),
            server: try container.decodeIfPresent(String.self, forKey: .server))
        rule = try container.decodeIfPresent(String.self, forKey: .rule)
        profiles = try container.decodeIfPresent([String].self, forKey: .profiles)
        remote = try container.decodeIfPresent([String].self, forKey: .remote)
        local = try container.decodeIfPresent([String].self, forKey: .local)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
        try container.encode(`protocol`, forKey: .protocol)
        try container.encode(portFrom, forKey: .portFrom)
        try container.encode(portTo, forKey: .portTo)
        try container.encodeIfPresent(interface, forKey: .interface)
        try container.encodeIfPresent(program, forKey: .program)
        try container.encodeIfPresent(service, forKey: .service)
        try container.encode(origin, forKey: .origin)
        try container.encode(evidence, forKey: .evidence)
        try container.encodeIfPresent(note, forKey: .note)
        try container.encodeIfPresent(server, forKey: .server)
        try container.encodeIfPresent(rule, forKey: .rule)
        try container.encodeIfPresent(profiles, forKey: .profiles)
        try container.encodeIfPresent(remote, forKey: .remote)
        try container.encodeIfPresent(local, forKey: .local)
    }
}

/// A rule of a firewall record that a ruleset does not carry: not OCS's (`other`), or open to
/// nothing (`disabled`, `block`, `outbound`, `deleted`), or open in a way no port list can say
/// (`not-carried`: every port, a port keyword, another protocol), or not readable (`not-read`).
public struct FirewallRuleNote: Sendable, Codable, Hashable {
    public var server: String?
    public var rule: String
    /// `TCP 445`, `UDP any program C:\…\svchost.exe`, `ICMPv4`.
    public var summary: String
    public var status: String
    public var reason: String
    public var evidence: Evidence

    public init(server: String?, rule: String, summary: String, status: String, reason: String, evidence: Evidence) {
        self.server = server
        self.rule = rule
        self.summary = summary
        self.status = status
        self.reason = reason
        self.evidence = evidence
    }
}

/// The severities of findings, most severe first.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case error
    case warning
    case info

    var order: Int {
        switch self {
        case .error: 0
        case .warning: 1
        case .info: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.order > rhs.order }
}

/// An error, warning or note, grouped with the repeats that differ only in variable parts.
public struct Finding: Sendable, Codable {
    /// 1 for the most likely root cause.
    public var rank: Int
    public var severity: Severity
    public var role: RoleID
    /// The computer the log ran on, when known.
    public var server: String?
    public var code: String?
    /// The event id, for events.
    public var event: Int?
    public var title: String
    public var count: Int
    /// The first evidence, and the last when there were repeats.
    public var evidence: [Evidence]
    /// The wizard step › task or MSI action stack of the first occurrence.
    public var context: [String]
    public var knownIssue: String?
    public var explanation: String?
    public var fix: String?
    public var references: [String]
    /// The signature that matched (signatures.yaml id, or a known-issue condition).
    public var signature: String
    /// The grouping key: signature, code and the message with its variable parts masked.
    public var group: String
    /// Whether this follows an earlier failure of the same step or MSI log (a consequence, not a cause).
    public var consequence: Bool
    /// The rank of the finding this one is a consequence of, when it is one.
    public var causeRank: Int?
    /// The ranking score: the sum of the points in `reasons` (capped below the cause for a consequence).
    public var score: Int
    /// What built the score, one reason per line ("+2000 error", "-300 consequence of #1", …).
    public var reasons: [String]
    /// Records around the first evidence (before and after it), when the analysis kept them (reports).
    public var surrounding: [Evidence]?

    public init(
        rank: Int, severity: Severity, role: RoleID, server: String?, code: String?, event: Int?, title: String,
        count: Int, evidence: [Evidence], context: [String], knownIssue: String?, explanation: String?, fix: String?,
        references: [String], signature: String, group: String, consequence: Bool, causeRank: Int?, score: Int,
        reasons: [String], surrounding: [Evidence]? = nil
    ) {
        self.rank = rank
        self.severity = severity
        self.role = role
        self.server = server
        self.code = code
        self.event = event
        self.title = title
        self.count = count
        self.evidence = evidence
        self.context = context
        self.knownIssue = knownIssue
        self.explanation = explanation
        self.fix = fix
        self.references = references
        self.signature = signature
        self.group = group
        self.consequence = consequence
        self.causeRank = causeRank
        self.score = score
        self.reasons = reasons
        self.surrounding = surrounding
    }
}

/// Lines that looked relevant but matched no signature, grouped by their masked template.
public struct LineGroup: Sendable, Codable {
    public var template: String
    public var count: Int
    public var first: Evidence

    public init(template: String, count: Int, first: Evidence) {
        self.template = template
        self.count = count
        self.first = first
    }
}

/// What was read from one log: an input, or one of the logs an input held one after another.
public struct InputResult: Sendable, Codable {
    public var path: String
    /// The log's number within its input (from 1), when the input is a stream or held several logs.
    public var log: Int?
    /// Where that log begins in its input: the byte offset (as stored) and the line.
    public var offset: Int?
    public var firstLine: Int?
    /// The log's title, when it has one (the deployment step it records, the MSI product).
    public var title: String?
    /// The computer the log ran on: as the log states it, as its folder's other logs state it, or `--server`.
    public var server: String?
    public var format: LogFormat
    public var formats: [LogFormat]
    public var logs: Int
    public var encoding: String
    public var encodings: [String]?
    public var lines: Int
    public var bytes: Int
    public var role: RoleID
    public var skipped: SkippedText
    /// Lines that looked relevant (a firewall, a port and protocol, a failure, an error code) but matched no signature.
    public var notUnderstood: Int
    /// Lines that contain one of the prefilter's words (`ocslog roles --patterns`): what `rg -ci -f` counts.
    public var candidateLines: Int

    /// How the log is named to people: its path, and for one log of several its number and title
    /// (`-#3 (Activate Edge Server)`).
    public var name: String {
        guard let log else { return path }
        return "\(path)#\(log)" + (title.map { " (\($0))" } ?? "")
    }

    public init(
        path: String, log: Int?, offset: Int?, firstLine: Int?, title: String?, server: String?, format: LogFormat,
        formats: [LogFormat], logs: Int, encoding: String, encodings: [String]?, lines: Int, bytes: Int, role: RoleID,
        skipped: SkippedText, notUnderstood: Int, candidateLines: Int
    ) {
        self.path = path
        self.log = log
        self.offset = offset
        self.firstLine = firstLine
        self.title = title
        self.server = server
        self.format = format
        self.formats = formats
        self.logs = logs
        self.encoding = encoding
        self.encodings = encodings
        self.lines = lines
        self.bytes = bytes
        self.role = role
        self.skipped = skipped
        self.notUnderstood = notUnderstood
        self.candidateLines = candidateLines
    }
}

/// The scan result document (`ocslog scan --format json`): a public contract, versioned by `schemaVersion`.
public struct ScanResult: Sendable, Codable {
    public var schemaVersion = 1
    public var inputs: [InputResult]
    public var exceptions: [FirewallException]
    public var findings: [Finding]
    /// What looked relevant but matched no signature, grouped (the most frequent first).
    public var notUnderstood: [LineGroup]
    public var summary: Summary
    /// Open ports of firewall rules that are not OCS's (Windows' own, other products'): in
    /// rulesets only with `--all-firewall-rules`.
    public var otherExceptions: [FirewallException]?
    /// Firewall rules read that no ruleset carries, with why (at most ``maximumFirewallNotes``).
    public var firewallRules: [FirewallRuleNote]?
    /// Rules left out of `firewallRules` past its limit.
    public var firewallRulesLeftOut: Int?

    /// The most firewall rules listed one by one.
    public static let maximumFirewallNotes = 2000

    public struct Summary: Sendable, Codable {
        public var errors: Int
        public var warnings: Int
        public var exceptions: Int
        public var roles: [RoleID]
        /// The servers the logs named, when any did.
        public var servers: [String]?

        public init(errors: Int, warnings: Int, exceptions: Int, roles: [RoleID], servers: [String]? = nil) {
            self.servers = servers
            self.errors = errors
            self.warnings = warnings
            self.exceptions = exceptions
            self.roles = roles
        }
    }

    public init(
        inputs: [InputResult], exceptions: [FirewallException], findings: [Finding], notUnderstood: [LineGroup],
        summary: Summary
    ) {
        self.inputs = inputs
        self.exceptions = exceptions
        self.findings = findings
        self.notUnderstood = notUnderstood
        self.summary = summary
    }
}

/// A server and one of its roles: how results are grouped (two Front Ends of a pool are two
/// servers with the same role); the server is nil where no log stated it.
public struct ServerRole: Sendable, Hashable, Codable {
    public var server: String?
    public var role: RoleID

    public init(server: String?, role: RoleID) {
        self.server = server
        self.role = role
    }

    /// "fe01.contoso.com — Front End", or the role's name alone.
    public func heading(roleName: String) -> String { (server.map { "\($0) — " } ?? "") + roleName }

    /// The order results are shown in: logs without a stated server first, then by server name
    /// (without case), roles in name order within each.
    public static func precedes(_ lhs: ServerRole, _ rhs: ServerRole) -> Bool {
        (lhs.server == nil ? 0 : 1, lhs.server?.lowercased() ?? "", lhs.role)
            < (rhs.server == nil ? 0 : 1, rhs.server?.lowercased() ?? "", rhs.role)
    }
}

extension ScanResult {
    /// Every server and role the result holds (inputs, exceptions, findings): logs without a stated
    /// server first, then by server name; roles in name order within each.
    public var serverRoles: [ServerRole] {
        var seen = Set<ServerRole>()
        for input in inputs { seen.insert(ServerRole(server: input.server, role: input.role)) }
        for exception in exceptions { seen.insert(ServerRole(server: exception.server, role: exception.role)) }
        for finding in findings { seen.insert(ServerRole(server: finding.server, role: finding.role)) }
        return seen.sorted(by: ServerRole.precedes)
    }
}
