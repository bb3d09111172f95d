import Foundation
import Knowledge
import ScanModel

/// The firewall vocabulary as the parsers look it up: indexes built once and shared by reference.
public final class FirewallWords: Sendable {
    public let vocabulary: FirewallVocabulary
    private let labels: [String: String]
    private let values: [String: String]
    let anyWords: Set<String>
    let added: Set<Int>
    let modified: Set<Int>
    let deleted: Set<Int>
    let reset: Set<Int>
    private let profileHeadings: [String]
    private let programHeadings: [String]
    private let portHeadings: [String]
    private let ownerWords: [String]
    private let endWords: Set<String>
    private let windowsGroups: [String]
    /// The rule-name label's words, lower-cased: what begins a `netsh advfirewall` rule block.
    private let ruleNameWords: [[UInt8]]
    /// Label words sorted longest first, lower-cased, for reading a flattened event message.
    let messageLabels: [(word: String, label: String)]

    public init(_ vocabulary: FirewallVocabulary) {
        self.vocabulary = vocabulary
        var labels: [String: String] = [:]
        var messageLabels: [(String, String)] = []
        for (label, words) in vocabulary.labels {
            for word in words {
                labels[FirewallVocabulary.normalized(word)] = label
                messageLabels.append((word.lowercased(), label))
            }
        }
        self.labels = labels
        self.messageLabels = messageLabels.sorted { ($0.0.count, $0.0) > ($1.0.count, $1.0) }
        var values: [String: String] = [:]
        for (value, words) in vocabulary.values {
            for word in words where values[FirewallVocabulary.normalized(word)] == nil {
                values[FirewallVocabulary.normalized(word)] = value
            }
        }
        self.values = values
        anyWords = Set((vocabulary.values["any"] ?? []).map(FirewallVocabulary.normalized))
        added = Set(vocabulary.events["added"] ?? [])
        modified = Set(vocabulary.events["modified"] ?? [])
        deleted = Set(vocabulary.events["deleted"] ?? [])
        reset = Set(vocabulary.events["reset"] ?? [])
        profileHeadings = vocabulary.profileHeadings.map { $0.lowercased() }
        programHeadings = vocabulary.programHeadings.map { $0.lowercased() }
        portHeadings = vocabulary.portHeadings.map { $0.lowercased() }
        ownerWords = vocabulary.ownerWords.map { $0.lowercased() }
        endWords = Set(vocabulary.endWords.map { $0.lowercased() })
        windowsGroups = vocabulary.windowsGroups.map { $0.lowercased() }
        ruleNameWords = (vocabulary.labels["rule-name"] ?? []).map { Array($0.lowercased().utf8) }
    }

    /// The canonical label a key is (`Rule Name` → `rule-name`).
    func label(_ key: String) -> String? { labels[FirewallVocabulary.normalized(key)] }

    /// The canonical value a word is (`Ja` → `yes`).
    func value(_ word: String) -> String? { values[FirewallVocabulary.normalized(word)] }

    func isAny(_ word: String) -> Bool { anyWords.contains(FirewallVocabulary.normalized(word)) }

    /// Whether an event id is a rule change, and which.
    func change(ofEvent id: Int) -> FirewallChange.Kind? {
        if added.contains(id) { return .added }
        if modified.contains(id) { return .modified }
        if deleted.contains(id) { return .deleted }
        if reset.contains(id) { return .reset }
        return nil
    }

    enum Heading {
        case profile(String)
        case programs, ports, other
    }

    /// What a `netsh firewall show config` heading line ("Port configuration for Domain profile:") heads.
    func heading(_ line: String) -> Heading? {
        let lowered = line.lowercased()
        guard lowered.hasSuffix(":") else { return nil }
        if programHeadings.contains(where: lowered.hasPrefix) { return .programs }
        if portHeadings.contains(where: lowered.hasPrefix) { return .ports }
        if profileHeadings.contains(where: lowered.contains) {
            return .profile(String(line.split(separator: " ").first ?? ""))
        }
        return nil
    }

    /// Whether a line is the first of a `netsh firewall show config` output.
    func startsConfig(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard line.count < 120, line.last == UInt8(ascii: ":") else { return false }
        if case .profile = heading(Bytes.string(line)) { return true }
        return false
    }

    /// Whether a line begins a `netsh advfirewall` rule block: the rule-name label, a colon, a value.
    func startsRuleBlock(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let colon = line.prefix(48).firstIndex(of: UInt8(ascii: ":")) else { return false }
        let key = Bytes.trimmed(UnsafeBufferPointer(rebasing: line[..<colon]))
        return ruleNameWords.contains { word in
            word.count == key.count && zip(word, key).allSatisfy { $0 == Bytes.lower($1) }
        }
    }

    /// Whether a line ends a netsh output ("Ok.").
    func ends(_ line: String) -> Bool { endWords.contains(line.trimmingSpaces().lowercased()) }

    /// Whether a rule is Windows' own: an indirect name or group (`@FirewallAPI.dll,-28502`), or a
    /// group or name that begins with one of Windows' groups ("Remote Desktop (TCP-In)").
    func isWindowsRule(name: String?, group: String?) -> Bool {
        if name?.hasPrefix("@") == true || group?.hasPrefix("@") == true { return true }
        for case let text? in [group, name] {
            let lowered = text.lowercased()
            if windowsGroups.contains(where: { lowered.hasPrefix($0) }) { return true }
        }
        return false
    }

    /// Whether a rule's name, group or program path names OCS, Lync or Skype for Business (whole words).
    func namesOwner(_ texts: [String?]) -> Bool {
        for case let text? in texts {
            let lowered = text.lowercased()
            for word in ownerWords {
                var from = lowered.startIndex
                while let found = lowered.range(of: word, range: from..<lowered.endIndex) {
                    let before =
                        found.lowerBound == lowered.startIndex ? nil : lowered[lowered.index(before: found.lowerBound)]
                    let after = found.upperBound == lowered.endIndex ? nil : lowered[found.upperBound]
                    if !(before?.isLetter ?? false) && !(before?.isNumber ?? false) && !(after?.isLetter ?? false)
                        && !(after?.isNumber ?? false)
                    {
                        return true
                    }
                    from = found.upperBound
                }
            }
        }
        return false
    }
}
