import ScanModel

/// The words of the Windows Firewall's own record (firewall.yaml `firewall`): the labels of
/// `netsh` output and of firewall events' messages, their values in each language, the event ids
/// of rule changes, and the words that make a rule OCS's. Parsers hold the shapes; this holds the
/// words, so that another language is a data change.
public struct FirewallVocabulary: Sendable, Equatable, Codable {
    /// Canonical label → the words it goes by (`rule-name`: ["Rule Name", "Regelname"]).
    public var labels: [String: [String]] = [:]
    /// Values: `yes`, `no`, `in`, `out`, `allow`, `block`, `any`, each with its words.
    public var values: [String: [String]] = [:]
    /// Event ids: `added`, `modified`, `deleted`.
    public var events: [String: [Int]] = [:]
    /// Lines that head a profile of `netsh firewall show config` ("Domain profile configuration").
    public var profileHeadings: [String] = []
    /// Lines that head its program and port lists.
    public var programHeadings: [String] = []
    public var portHeadings: [String] = []
    /// Words in a rule's name, group or program path that make it OCS's, Lync's or Skype for Business's.
    public var ownerWords: [String] = []
    /// Where a netsh output ends ("Ok.").
    public var endWords: [String] = []
    /// Groups (and name prefixes) of Windows' own rules as netsh shows them resolved ("Remote
    /// Desktop", "Core Networking"): never OCS's, whatever port they open.
    public var windowsGroups: [String] = []

    /// The canonical labels the parsers read; a file that names another is an error.
    public static let knownLabels: Set<String> = [
        "rule-name", "description", "enabled", "direction", "profiles", "grouping", "local-ip", "remote-ip",
        "protocol", "local-port", "remote-port", "edge-traversal", "program", "service", "interface-types",
        "security", "rule-source", "action", "rule-id", "origin", "active", "application-path", "service-name",
        "modifying-user", "modifying-application", "scope", "mode", "name", "port",
    ]
    public static let knownValues: Set<String> = ["yes", "no", "in", "out", "allow", "block", "any"]
    public static let knownEvents: Set<String> = ["added", "modified", "deleted", "reset"]

    enum CodingKeys: String, CodingKey {
        case labels, values, events
        case profileHeadings = "profile-headings"
        case programHeadings = "program-headings"
        case portHeadings = "port-headings"
        case ownerWords = "owner-words"
        case endWords = "end-words"
        case windowsGroups = "windows-groups"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        labels = try container.decodeIfPresent([String: [String]].self, forKey: .labels) ?? [:]
        values = try container.decodeIfPresent([String: [String]].self, forKey: .values) ?? [:]
        events = try container.decodeIfPresent([String: [Int]].self, forKey: .events) ?? [:]
        profileHeadings = try container.decodeIfPresent([String].self, forKey: .profileHeadings) ?? []
        programHeadings = try container.decodeIfPresent([String].self, forKey: .programHeadings) ?? []
        portHeadings = try container.decodeIfPresent([String].self, forKey: .portHeadings) ?? []
        ownerWords = try container.decodeIfPresent([String].self, forKey: .ownerWords) ?? []
        endWords = try container.decodeIfPresent([String].self, forKey: .endWords) ?? []
        windowsGroups = try container.decodeIfPresent([String].self, forKey: .windowsGroups) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(labels, forKey: .labels)
        try container.encode(values, forKey: .values)
        try container.encode(events, forKey: .events)
        try container.encode(profileHeadings, forKey: .profileHeadings)
        try container.encode(programHeadings, forKey: .programHeadings)
        try container.encode(portHeadings, forKey: .portHeadings)
        try container.encode(ownerWords, forKey: .ownerWords)
        try container.encode(endWords, forKey: .endWords)
        try container.encode(windowsGroups, forKey: .windowsGroups)
    }

    /// What is wrong with it, if anything: an unknown label, value or event kind, or an empty word.
    public func problem() -> String? {
        if let unknown = labels.keys.first(where: { !Self.knownLabels.contains($0) }) {
            return "unknown firewall label '\(unknown)'"
        }
        if let unknown = values.keys.first(where: { !Self.knownValues.contains($0) }) {
            return "unknown firewall value '\(unknown)' (\(Self.knownValues.sorted().joined(separator: ", ")))"
        }
        if let unknown = events.keys.first(where: { !Self.knownEvents.contains($0) }) {
            return "unknown firewall event kind '\(unknown)' (added, modified, deleted, reset)"
        }
        var words: [String] = Array(labels.values.joined())
        words += Array(values.values.joined())
        for list in [profileHeadings, programHeadings, portHeadings, ownerWords, endWords, windowsGroups] {
            words += list
        }
        if words.contains(where: { $0.allSatisfy { $0 == " " || $0 == "\t" } }) { return "a firewall word is empty" }
        return nil
    }

    /// Lower-cased with spaces, tabs, `-` and `_` removed: how labels and values are compared.
    public static func normalized(_ text: String) -> String {
        String(text.lowercased().unicodeScalars.filter { $0 != " " && $0 != "\t" && $0 != "-" && $0 != "_" })
    }

    /// Merges a later file's section: each list it names replaces the earlier one.
    public mutating func merge(_ other: FirewallVocabulary) {
        labels.merge(other.labels) { $1 }
        values.merge(other.values) { $1 }
        events.merge(other.events) { $1 }
        if !other.profileHeadings.isEmpty { profileHeadings = other.profileHeadings }
        if !other.programHeadings.isEmpty { programHeadings = other.programHeadings }
        if !other.portHeadings.isEmpty { portHeadings = other.portHeadings }
        if !other.ownerWords.isEmpty { ownerWords = other.ownerWords }
        if !other.endWords.isEmpty { endWords = other.endWords }
        if !other.windowsGroups.isEmpty { windowsGroups = other.windowsGroups }
    }
}
