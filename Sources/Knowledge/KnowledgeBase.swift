import Foundation
import PCRE2
import ScanModel
import SystemCalls
import Yams

/// Whether a fact was seen in a public source or inferred.
public enum FactOrigin: String, Sendable, Codable {
    case known
    case likely
}

/// A server role and what identifies it in logs (roles.yaml).
public struct Role: Sendable, Codable, Equatable {
    /// The public id: `front-end`, `edge`, … (a contract: see the README).
    public var id: RoleID
    public var name: String
    /// How much other roles depend on this one (ranking).
    public var weight: Int
    public var steps: [String]
    public var products: [String]
    public var programs: [String]
    public var services: [String]
    public var files: [String]

    /// The role of anything ocslog could not place.
    public static let unknownID = RoleID.unknown
}

/// A documented port of a role (ports.yaml).
public struct DocumentedPort: Sendable, Equatable {
    public var role: RoleID
    public var interface: EdgeInterface?
    public var range: PortRange
    public var protocols: [TransportProtocol]
    public var purpose: String
    public var origin: FactOrigin
    public var programs: [String]
    /// Who connects to it, for a firewall in front of the servers (empty: not described).
    public var from: [PortPeer] = []
    /// Whether the role also connects out on it.
    public var direction: PortDirection = .inbound
    /// Whom it connects out to, when that is not everyone it is connected from (empty: `from`).
    public var to: [PortPeer] = []
    /// Where its direction and peers are stated.
    public var reference: String?
}

/// Where a network zone sits, as the knowledge and a topology name it.
public enum ZoneKind: String, Sendable, CaseIterable, Hashable {
    case internet, perimeter, `internal`
}

/// Who connects to a documented port: a kind of zone, or the servers of a role (one Edge side).
public enum PortPeer: Sendable, Hashable, CustomStringConvertible {
    case zone(ZoneKind)
    case servers(role: RoleID, interface: EdgeInterface?)

    /// `internet`, `front-end`, `edge:internal`.
    public init?(_ text: String, roles: Set<RoleID>) {
        if let kind = ZoneKind(rawValue: text) {
            self = .zone(kind)
            return
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2, roles.contains(RoleID(parts[0])) else { return nil }
        if parts.count == 2 {
            guard let interface = EdgeInterface(rawValue: parts[1]) else { return nil }
            self = .servers(role: RoleID(parts[0]), interface: interface)
        } else {
            self = .servers(role: RoleID(parts[0]), interface: nil)
        }
    }

    public var description: String {
        switch self {
        case .zone(let kind): kind.rawValue
        case .servers(let role, let interface): role.rawValue + (interface.map { ":" + $0.rawValue } ?? "")
        }
    }
}

/// Whether a documented port is only connected to, or also connected from, the role.
public enum PortDirection: String, Sendable, Hashable {
    case inbound = "in"
    case both
}

/// What the guidance says about translating a role's addresses (ports.yaml `translation`).
public struct TranslationRule: Sendable, Equatable {
    public enum Address: String, Sendable { case av, any }
    public enum When: String, Sendable {
        case translated
        case severalServers = "several-servers"
    }
    public var role: RoleID
    public var interface: EdgeInterface?
    public var address: Address
    public var when: When
    public var message: String
    public var reference: String
}

/// The kind of a signature.
public enum SignatureType: String, Sendable, Codable {
    /// The record is a firewall-exception entry.
    case exception
    /// A field extractor applied to exception records (ports, protocol, program, service, interface).
    case field
    case error
    case warning
    case info
    /// Understood and of no concern: no finding, and not "not understood" either.
    case noise
}

/// Conditions on a record's structure (signatures' `when`).
public struct RecordCondition: Sendable {
    public var kinds: [RecordKind]
    public var numbers: [ClosedRange<Int>]
    public var outcome: String?
    public var levels: [String]
    public var context: Pattern?
}

/// A sample a signature must match: text, optionally parsed as a format first.
public struct SignatureSample: Sendable, Equatable {
    public var text: String
    public var format: String?
    public var context: String?
    /// What a scan of it yields, as the tests compare it: `TCP 5065` (an exception), `documented
    /// TCP 5061`, `program RTCSrv.exe`, `service …`, `code 0x80070005`, `finding warning`; empty:
    /// nothing (noise). Nil when not stated.
    public var yields: [String]? = nil
}

/// A signature (signatures.yaml): a pattern and/or a structural condition.
public struct Signature: Sendable {
    public var id: String
    public var type: SignatureType
    public var title: String
    public var pattern: Pattern?
    public var when: RecordCondition?
    public var samples: [SignatureSample]
    /// The file the signature came from (embedded or `--knowledge DIR`).
    public var source: String
}

/// A known failure and its fix (known-issues.yaml).
public struct KnownIssue: Sendable {
    public var id: String
    public var title: String
    public var severity: Severity
    public var roles: [RoleID]
    public var codes: [String]
    public var events: [Int]
    public var signatures: [String]
    public var patterns: [Pattern]
    public var conditions: [KnownIssueCondition]
    public var explanation: String
    public var fix: String
    public var references: [String]
    public var origin: FactOrigin
}

/// A condition over the whole scan that raises a known issue (known-issues.yaml `match.conditions`).
public enum KnownIssueCondition: Sendable, Hashable, CustomStringConvertible {
    /// An activation log read cleanly without an exception entry or a reason for none.
    case activationWithoutExceptions
    /// The server's firewall lacks an exception its setup logged.
    case firewallLacksSetupException
    /// The firewall has an OCS rule no setup log mentions.
    case firewallRuleNotLogged
    /// A log of this role is in the scan.
    case rolePresent(RoleID)

    /// The data form of `rolePresent`, before the role's id.
    public static let rolePresentPrefix = "role-present:"
    /// The data forms of the conditions without a parameter.
    private static let named: [(form: String, condition: KnownIssueCondition)] = [
        ("activation-without-exceptions", .activationWithoutExceptions),
        ("firewall-lacks-setup-exception", .firewallLacksSetupException),
        ("firewall-rule-not-logged", .firewallRuleNotLogged),
    ]
    /// Every data form, as the knowledge's error messages list them.
    public static var forms: [String] { named.map(\.form) + [rolePresentPrefix + "ROLE"] }

    /// Reads the data form (`activation-without-exceptions`, `role-present:ROLE`); nil when unknown.
    public init?(_ text: String, roles: Set<RoleID>) {
        if let named = Self.named.first(where: { $0.form == text }) {
            self = named.condition
            return
        }
        let role = RoleID(String(text.dropFirst(Self.rolePresentPrefix.count)))
        guard text.hasPrefix(Self.rolePresentPrefix), roles.contains(role) else { return nil }
        self = .rolePresent(role)
    }

    /// The data form, also the signature of the findings it raises.
    public var description: String {
        if case .rolePresent(let role) = self { return Self.rolePresentPrefix + role.rawValue }
        return Self.named.first { $0.condition == self }?.form ?? ""
    }
}

/// What an error code means (codes.yaml).
public struct CodeMeaning: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case msi, win32, hresult, ocs
    }
    /// Normalized: `0x` and eight hex digits, or decimal.
    public var code: String
    public var kind: Kind
    public var meaning: String
    public var origin: FactOrigin
}

/// Everything ocslog knows about OCS deployments, loaded from data and validated.
public struct KnowledgeBase: Sendable {
    public var roles: [Role]
    public var ports: [DocumentedPort]
    /// What the guidance says about address translation in front of a role (ports.yaml).
    public var translation: [TranslationRule] = []
    public var signatures: [Signature]
    public var knownIssues: [KnownIssue]
    /// What error codes mean.
    public var codes: [CodeMeaning]
    /// Words one of which a record's text must contain before any text pattern runs (signatures.yaml `prefilter`).
    public var prefilterWords: [String]
    /// The prefilter as one case-insensitive pattern.
    public var prefilter: Pattern
    /// What makes a record "look relevant" for `--explain` (signatures.yaml `attention`).
    public var attention: Pattern?
    /// The words of firewall-exception entries (fields.yaml).
    public var vocabulary: FieldVocabulary
    /// The words of the Windows Firewall's own record (firewall.yaml).
    public var firewall = FirewallVocabulary()

    /// The role with this id.
    public func role(_ id: RoleID) -> Role? { roles.first { $0.id == id } }

    /// What a normalized code means (several entries when the number means different things to MSI and Win32).
    public func meanings(of code: String) -> [CodeMeaning] { codes.filter { $0.code == code } }

    /// The known issues a normalized code belongs to.
    public func knownIssues(withCode code: String) -> [KnownIssue] { knownIssues.filter { $0.codes.contains(code) } }

    /// The valid role ids, including `unknown`.
    public var roleIDs: [RoleID] { roles.map(\.id) + [Role.unknownID] }

    /// The knowledge built into the binary.
    public static func embedded() throws(KnowledgeError) -> KnowledgeBase {
        var loader = KnowledgeLoader()
        try loader.add(compiled: PackageResources.knowledge_json)
        return try loader.build()
    }

    /// The embedded knowledge with one more file's text added on top (tests, fuzzing).
    public static func embedded(adding text: String, file: String) throws(KnowledgeError) -> KnowledgeBase {
        var loader = KnowledgeLoader()
        try loader.add(compiled: PackageResources.knowledge_json)
        try loader.add(file: file, text: text)
        return try loader.build()
    }

    /// The data files, in the order they are added (`Sources/Knowledge/Data/`).
    public static let dataFiles = [
        "roles.yaml", "ports.yaml", "signatures.yaml", "known-issues.yaml", "codes.yaml", "fields.yaml",
        "firewall.yaml",
    ]

    /// The compiled form the binary embeds (`Data/knowledge.json`) of the data files' texts, given
    /// in ``dataFiles`` order: the YAML as read, as JSON (a test checks the committed one is current).
    public static func compile(_ files: [(name: String, text: String)]) throws(KnowledgeError) -> String {
        try KnowledgeLoader.compile(files)
    }

    /// The embedded knowledge with a folder's YAML files added on top (entries with the same id replace).
    public static func load(overrides directory: String?) throws(KnowledgeError) -> KnowledgeBase {
        var loader = KnowledgeLoader()
        try loader.add(compiled: PackageResources.knowledge_json)
        if let directory {
            let files: [String]
            do {
                files = try OS.folderEntries(directory).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                    .sorted()
            } catch {
                throw KnowledgeError(file: directory, entry: nil, message: "cannot read the folder: \(error)")
            }
            for name in files {
                let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
                guard let bytes = try? OS.readFile(path), let text = String(validating: bytes, as: UTF8.self) else {
                    throw KnowledgeError(file: path, entry: nil, message: "cannot read the file as UTF-8")
                }
                try loader.add(file: path, text: text)
            }
        }
        return try loader.build()
    }
}

/// A knowledge file that could not be used: which file, which entry, what is wrong.
public struct KnowledgeError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var entry: String?
    public var message: String

    public var description: String {
        if let entry { return "\(file): entry '\(entry)': \(message)" }
        return "\(file): \(message)"
    }
}
