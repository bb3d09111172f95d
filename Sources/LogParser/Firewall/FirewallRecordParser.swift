import Foundation
import Knowledge
import ScanModel

#if canImport(FoundationEssentials)
    import FoundationEssentials
#endif

/// Parses the Windows Firewall's own record, line by line: a registry export of the firewall
/// policy (rule strings of Windows Server 2008 and later; the Windows Server 2003 port and program
/// lists), `netsh advfirewall firewall show rule … verbose`, `netsh firewall show config`, and
/// event exports as XML (`wevtutil qe … /f:xml`). Each rule becomes one record of kind
/// `firewall-rule` carrying a ``FirewallChange``; other events of an XML export become `event`
/// records. What cannot be read becomes a `firewall-rule` record whose rule lists the problem.
struct FirewallRecordParser {
    let path: String
    let format: LogFormat
    let words: FirewallWords

    /// Whether the record ended (netsh's "Ok.").
    private(set) var hasEnded = false

    init(path: String, format: LogFormat, words: FirewallWords) {
        self.path = path
        self.format = format
        self.words = words
    }

    mutating func parse(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        switch format {
        case .registryExport: try parseRegistry(line, emit)
        case .netshAdvfirewall: try parseNetshRule(line, emit)
        case .netshFirewall: try parseNetshConfig(line, emit)
        case .eventXML: try parseEventXML(line, emit)
        default: break
        }
    }

    /// Whether the input ended inside a record (a rule block or an event not closed).
    var isInsideRecord: Bool { !block.isEmpty || !eventBytes.isEmpty }

    mutating func finish(_ emit: (RecordDraft) throws -> Void) rethrows {
        if format == .netshAdvfirewall { try flushBlock(emit) }
        if format == .netshFirewall { try flushRow(emit) }
        if format == .eventXML, !eventBytes.isEmpty {
            let line = eventLine
            eventBytes.removeAll()
            var rule = FirewallRule()
            rule.problems = ["the export ends inside an event (no </Event>): its rule was not read"]
            try emitRule(
                FirewallChange(kind: .snapshot, rule: rule), text: Array("<Event …".utf8), line: line.0,
                offset: line.1, event: nil, emit)
        }
    }

    /// Whether a line is no part of this record, so that it begins the next log of a stream: for a
    /// registry export, a line that is no key, value, continuation or comment; for an XML event
    /// export, text outside an event that is no markup.
    func endsBefore(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        isBetweenRecords && Self.endsBefore(line, format: format)
    }

    /// Whether the parser is between records (not inside an event, not in a value's continuation):
    /// only then may a line end the log. LogStream keeps a copy, so that it need not look at the
    /// parser for every line.
    var isBetweenRecords: Bool {
        switch format {
        case .eventXML: eventBytes.isEmpty && !eventTooLong
        case .registryExport: !continuing
        default: false
        }
    }

    /// Whether a line, met between records, is no part of a record of this format.
    static func endsBefore(_ line: UnsafeBufferPointer<UInt8>, format: LogFormat) -> Bool {
        let trimmed = Bytes.trimmed(line)
        guard let first = trimmed.first else { return false }
        // An XML event export: text between events that is no markup begins the next log.
        if format == .eventXML { return first != UInt8(ascii: "<") }
        guard format == .registryExport else { return false }
        if first == UInt8(ascii: "[") || first == UInt8(ascii: "\"") || first == UInt8(ascii: "@")
            || first == UInt8(ascii: ";") || line.first == 0x20
        {
            return false
        }
        return
            !(Bytes.hasPrefix(trimmed, "Windows Registry Editor") || Bytes.hasPrefix(trimmed, "REGEDIT")
            || Bytes.hasPrefix(trimmed, "HKEY_"))
    }

    private func emitRule(
        _ change: FirewallChange, text: [UInt8], line: Int, offset: Int, event: EventInfo?,
        _ emit: (RecordDraft) throws -> Void
    ) rethrows {
        try text.withUnsafeBufferPointer { buffer in
            var draft = RecordDraft(
                bytes: buffer, path: path, line: line, byteOffset: offset, format: format, kind: .firewallRule,
                context: [], clock: nil, inRollback: false, outcome: nil, number: event?.eventID, event: event)
            draft.firewall = change
            try emit(draft)
        }
    }

    // MARK: - Registry exports

    private enum Key {
        case rules
        case openPorts(String?)
        case programs(String?)
        case other
    }
    private var key = Key.other
    /// The value before ended with `\`: this line continues it (hex data).
    private var continuing = false

    private mutating func parseRegistry(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        let bytes = line.buffer
        if continuing {
            continuing = bytes.last == UInt8(ascii: "\\")
            return
        }
        let trimmed = Bytes.trimmed(bytes)
        guard let first = trimmed.first else { return }
        if first == UInt8(ascii: "[") {
            key = Self.key(Bytes.string(trimmed))
            return
        }
        // `reg query` writes keys bare and values as "    NAME    REG_SZ    DATA" (no escapes).
        if Bytes.hasPrefix(trimmed, "HKEY_") {
            key = Self.key("[" + Bytes.string(trimmed) + "]")
            return
        }
        if first != UInt8(ascii: "\""), let type = Bytes.find("    REG_", in: bytes) {
            if case .other = key { return }
            let name = Bytes.string(bytes, 0..<type).trimmingSpaces()
            let rest = Bytes.string(bytes, (type + 4)..<bytes.count)
            guard rest.hasPrefix("REG_SZ"), let separator = rest.range(of: "    ") else { return }
            let data = String(rest[separator.upperBound...]).trimmingSpaces()
            try emitValue(name: name, data: data, line, emit)
            return
        }
        guard first == UInt8(ascii: "\"") else {
            continuing = trimmed.last == UInt8(ascii: "\\")
            return
        }
        // "name"=data
        guard let (name, afterName) = Self.quoted(trimmed, from: 0) else {
            if case .other = key { return }
            try emitProblem("a value's name is not closed by a quote", line, emit)
            return
        }
        guard afterName < trimmed.count, trimmed[afterName] == UInt8(ascii: "=") else { return }
        let dataStart = afterName + 1
        guard dataStart < trimmed.count, trimmed[dataStart] == UInt8(ascii: "\"") else {
            // dword:, hex(…): — no rule; a hex value may continue on the next lines.
            continuing = trimmed.last == UInt8(ascii: "\\")
            return
        }
        if case .other = key { return }
        guard let (data, end) = Self.quoted(trimmed, from: dataStart), end == trimmed.count else {
            try emitProblem("the value of '\(name.prefix(80))' is not closed by a quote", line, emit)
            return
        }
        try emitValue(name: name, data: data, line, emit)
    }

    /// A value of a key that holds rules: a rule string, or a Windows Server 2003 list entry.
    private func emitValue(name: String, data: String, _ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        var rule: FirewallRule
        switch key {
        case .rules: rule = RuleString.parse(data, words: words)
        case .openPorts(let profile): rule = Self.openPort(name: name, data: data, profile: profile, words: words)
        case .programs(let profile): rule = Self.program(name: name, data: data, profile: profile, words: words)
        case .other: return
        }
        if rule.id == nil { rule.id = name }
        try emitRule(
            FirewallChange(kind: .snapshot, rule: rule), text: Array(line.buffer), line: line.number,
            offset: line.byteOffset, event: nil, emit)
    }

    private func emitProblem(_ problem: String, _ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        var rule = FirewallRule()
        rule.problems = [problem]
        try emitRule(
            FirewallChange(kind: .snapshot, rule: rule), text: Array(line.buffer), line: line.number,
            offset: line.byteOffset, event: nil, emit)
    }

    /// What a key holds, from its path.
    private static func key(_ text: String) -> Key {
        let lowered = text.lowercased()
        guard lowered.hasSuffix("]") else { return .other }
        let path = lowered.dropFirst().dropLast()
        let profile: String? =
            path.contains("\\domainprofile\\")
            ? "Domain"
            : path.contains("\\standardprofile\\")
                ? "Standard" : path.contains("\\publicprofile\\") ? "Public" : nil
        // (The firewall policy's rules, and those Group Policy sets: …\\WindowsFirewall\\FirewallRules.)
        if path.hasSuffix("\\firewallpolicy\\firewallrules") || path.hasSuffix("\\windowsfirewall\\firewallrules") {
            return .rules
        }
        if path.hasSuffix("\\globallyopenports\\list") { return .openPorts(profile) }
        if path.hasSuffix("\\authorizedapplications\\list") { return .programs(profile) }
        return .other
    }

    /// A `.reg` string starting at a quote: its text with `\\` and `\"` undone, and the index after its closing quote.
    static func quoted(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (String, Int)? {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "\"") else { return nil }
        var text: [UInt8] = []
        var index = start + 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                text.append(bytes[index + 1])
                index += 2
                continue
            }
            if byte == UInt8(ascii: "\"") { return (String(decoding: text, as: UTF8.self), index + 1) }
            text.append(byte)
            index += 1
        }
        return nil
    }

    /// `"5061:TCP"="5061:TCP:*:Enabled:NAME"` (Windows Server 2003's open ports).
    static func openPort(name: String, data: String, profile: String?, words: FirewallWords) -> FirewallRule {
        var rule = FirewallRule()
        rule.id = name
        rule.action = .allow
        if let profile { rule.profiles = [profile] }
        let parts = data.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5 else {
            rule.problems = ["open port '\(data.prefix(80))' is not PORT:PROTOCOL:SCOPE:Enabled:NAME"]
            return rule
        }
        rule.name = parts[4]
        let (number, problem) = FirewallRule.protocolNumber(parts[1], anyWords: [])
        rule.protocolNumber = number
        if let problem { rule.problems.append(problem) }
        if number != 6 && number != 17 { rule.problems.append("open port protocol '\(parts[1])' is not TCP or UDP") }
        let (ports, portProblems) = FirewallRule.ports(parts[0], anyWords: [])
        rule.localPorts = ports
        rule.problems += portProblems
        if ports.isEmpty, portProblems.isEmpty { rule.problems.append("open port without a port number") }
        if ports.contains(where: { if case .keyword = $0 { true } else { false } }) {
            rule.problems.append("port '\(parts[0])' is not a number")
        }
        rule.remoteAddresses = scope(parts[2], words: words)
        rule.enabled = enabled(parts[3], &rule)
        return rule
    }

    /// `"PATH"="PATH:*:Enabled:NAME"` (Windows Server 2003's programs).
    static func program(name: String, data: String, profile: String?, words: FirewallWords) -> FirewallRule {
        var rule = FirewallRule()
        rule.id = name
        rule.action = .allow
        rule.program = name
        if let profile { rule.profiles = [profile] }
        guard data.count > name.count, data.lowercased().hasPrefix(name.lowercased()),
            data.dropFirst(name.count).first == ":"
        else {
            rule.problems = ["program '\(data.prefix(80))' is not PATH:SCOPE:Enabled:NAME"]
            return rule
        }
        let parts = data.dropFirst(name.count + 1).split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            .map(String.init)
        guard parts.count == 3 else {
            rule.problems = ["program '\(data.prefix(80))' is not PATH:SCOPE:Enabled:NAME"]
            return rule
        }
        rule.name = parts[2]
        rule.remoteAddresses = scope(parts[0], words: words)
        rule.enabled = enabled(parts[1], &rule)
        return rule
    }

    private static func scope(_ text: String, words: FirewallWords) -> [String] {
        text == "*" || words.isAny(text) ? [] : text.split(separator: ",").map { String($0).trimmingSpaces() }
    }

    private static func enabled(_ text: String, _ rule: inout FirewallRule) -> Bool {
        switch text.lowercased() {
        case "enabled": return true
        case "disabled": return false
        default:
            rule.problems.append("state '\(text.prefix(40))' is neither Enabled nor Disabled")
            return false
        }
    }

    // MARK: - netsh advfirewall firewall show rule

    private var block: [(label: String, value: String)] = []
    private var blockLine = (0, 0)
    private var blockText: [UInt8] = []
    /// The most lines a rule block holds (a longer one is cut, and says so).
    static let maximumBlockLines = 64

    private mutating func parseNetshRule(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        let text = Bytes.string(line.buffer)
        let trimmed = text.trimmingSpaces()
        if trimmed.isEmpty {
            try flushBlock(emit)
            return
        }
        if words.ends(trimmed) {
            try flushBlock(emit)
            hasEnded = true
            return
        }
        if LogStream.isRuler(Bytes.trimmed(line.buffer)) { return }
        guard let colon = text.firstIndex(of: ":"), text.distance(from: text.startIndex, to: colon) <= 48,
            !text.hasPrefix(" "), !text.hasPrefix("\t")
        else { return }  // an ICMP type table, a description's further lines
        let key = String(text[..<colon]).trimmingSpaces()
        guard let label = words.label(key) else { return }
        let value = String(text[text.index(after: colon)...]).trimmingSpaces()
        if label == "rule-name" { try flushBlock(emit) }
        if block.isEmpty {
            // (A block cut from its "Rule Name:" line still names where it begins.)
            blockLine = (line.number, line.byteOffset)
            blockText = Array(line.buffer.prefix(400))
        }
        guard block.count < Self.maximumBlockLines else { return }
        block.append((label, value))
    }

    private mutating func flushBlock(_ emit: (RecordDraft) throws -> Void) rethrows {
        guard !block.isEmpty else { return }
        let fields = block
        block.removeAll(keepingCapacity: true)
        var rule = FirewallRule()
        var seen: Set<String> = []
        for (label, value) in fields {
            if !seen.insert(label).inserted, label != "description" {
                rule.problems.append("'\(label)' is stated twice")
            }
            let any = value.isEmpty || words.isAny(value)
            switch label {
            case "rule-name": rule.name = value
            case "enabled": rule.enabled = words.value(value) == "yes"
            case "direction":
                switch words.value(value) {
                case "in": rule.direction = .inbound
                case "out": rule.direction = .outbound
                default: rule.problems.append("direction '\(value.prefix(40))' could not be read")
                }
            case "profiles": rule.profiles = any ? [] : value.split(separator: ",").map { String($0).trimmingSpaces() }
            case "grouping": rule.group = value.isEmpty ? nil : value
            case "remote-ip": rule.remoteAddresses = any ? [] : [value]
            case "local-ip": rule.localAddresses = any ? [] : [value]
            case "security": if !value.isEmpty, value.lowercased() != "notrequired" { rule.security = value }
            case "protocol":
                let (number, problem) = FirewallRule.protocolNumber(value, anyWords: words.anyWords)
                rule.protocolNumber = number
                if let problem { rule.problems.append(problem) }
            case "local-port":
                let (ports, problems) = FirewallRule.ports(value, anyWords: words.anyWords)
                rule.localPorts = ports
                rule.problems += problems
            case "program": rule.program = any ? nil : value
            case "service": rule.service = any ? nil : value
            case "action":
                switch words.value(value) {
                case "allow": rule.action = .allow
                case "block": rule.action = .block
                default: rule.problems.append("action '\(value.prefix(40))' could not be read")
                }
            default: break
            }
        }
        if fields.count >= Self.maximumBlockLines { rule.problems.append("the rule block is longer than expected") }
        if !seen.contains("enabled") { rule.problems.append("the block does not state whether the rule is enabled") }
        if !seen.contains("direction") { rule.problems.append("the block does not state the rule's direction") }
        if !seen.contains("protocol") { rule.problems.append("the block does not state the rule's protocol") }
        if !seen.contains("action") { rule.problems.append("the block does not state the rule's action") }
        if rule.protocolNumber == 6 || rule.protocolNumber == 17, !seen.contains("local-port") {
            rule.problems.append("the block does not state the rule's local ports")
        }
        // Without a RemoteIP line the record does not say who may connect.
        if !seen.contains("remote-ip") { rule.scopeStated = false }
        try emitRule(
            FirewallChange(kind: .snapshot, rule: rule), text: blockText, line: blockLine.0, offset: blockLine.1,
            event: nil, emit)
    }

    // MARK: - netsh firewall show config (Windows Server 2003)

    private enum ConfigSection { case none, programs, ports }
    private var section = ConfigSection.none
    private var profile: String?
    /// The last row read, held for the `Scope:` line `verbose = enable` prints under it.
    private var pendingRow: (rule: FirewallRule, text: [UInt8], line: Int, offset: Int)?

    private mutating func flushRow(_ emit: (RecordDraft) throws -> Void) rethrows {
        guard let row = pendingRow else { return }
        pendingRow = nil
        try emitRule(
            FirewallChange(kind: .snapshot, rule: row.rule), text: row.text, line: row.line, offset: row.offset,
            event: nil, emit)
    }

    private mutating func parseNetshConfig(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        let text = Bytes.string(line.buffer).trimmingSpaces()
        // "      Scope: LocalSubNet" (verbose = enable) belongs to the row above it.
        if pendingRow != nil, line.buffer.first == 0x20 || line.buffer.first == 0x09,
            let colon = text.firstIndex(of: ":"), words.label(String(text[..<colon])) == "scope"
        {
            let scope = String(text[text.index(after: colon)...]).trimmingSpaces()
            pendingRow?.rule.remoteAddresses = Self.scope(scope, words: words)
            pendingRow?.rule.scopeStated = true
            try flushRow(emit)
            return
        }
        try flushRow(emit)
        if text.isEmpty || LogStream.isRuler(Bytes.trimmed(line.buffer)) { return }
        if words.ends(text) {
            hasEnded = true
            return
        }
        if let heading = words.heading(text) {
            switch heading {
            case .profile(let name):
                profile = name
                section = .none
            case .programs: section = .programs
            case .ports: section = .ports
            case .other: section = .none
            }
            return
        }
        if text.hasSuffix(":") {
            section = .none
            return
        }
        // "Operational mode = Disable": the firewall is off for the profile — every port is open.
        if let equals = text.firstIndex(of: "="), text.lowercased().hasPrefix("operational mode") {
            if words.value(String(text[text.index(after: equals)...]).trimmingSpaces()) == "no" {
                var rule = FirewallRule()
                rule.name = "Windows Firewall off" + (profile.map { " (\($0) profile)" } ?? "")
                rule.action = .allow
                rule.problems = ["the firewall is off for this profile: every port is open, no rule says which"]
                if let profile { rule.profiles = [profile] }
                try emitRule(
                    FirewallChange(kind: .snapshot, rule: rule), text: Array(line.buffer), line: line.number,
                    offset: line.byteOffset, event: nil, emit)
            }
            return
        }
        let columns = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        var rule = FirewallRule()
        rule.action = .allow
        // Who may connect is stated only by a "Scope:" line under the row (verbose = enable).
        rule.scopeStated = false
        if let profile { rule.profiles = [profile] }
        switch section {
        case .none: return
        case .ports:
            // Port  Protocol  Mode  [Traffic direction]  Name
            guard columns.count >= 3, columns[0].allSatisfy(\.isNumber) else { return }  // the column header
            let (ports, problems) = FirewallRule.ports(columns[0], anyWords: [])
            rule.localPorts = ports
            rule.problems += problems
            let (number, problem) = FirewallRule.protocolNumber(columns[1], anyWords: [])
            rule.protocolNumber = number
            if let problem { rule.problems.append(problem) }
            var rest = Array(columns.dropFirst(2))
            readModeAndDirection(&rest, &rule)
            rule.name = rest.joined(separator: " ")
            rule.id = "\(columns[0]):\(columns[1])"
        case .programs:
            // Mode  [Traffic direction]  Name / Program
            guard let mode = columns.first, words.value(mode) == "yes" || words.value(mode) == "no" else { return }
            var rest = columns
            readModeAndDirection(&rest, &rule)
            let entry = rest.joined(separator: " ")
            if let slash = entry.range(of: " / ", options: .backwards) {
                rule.name = String(entry[..<slash.lowerBound])
                rule.program = String(entry[slash.upperBound...])
            } else {
                rule.program = entry
            }
            rule.id = rule.program
        }
        pendingRow = (rule, Array(line.buffer), line.number, line.byteOffset)
    }

    /// The mode column (Enable/Disable) and, where the output has it, the traffic direction.
    private func readModeAndDirection(_ columns: inout [String], _ rule: inout FirewallRule) {
        guard let mode = columns.first else {
            rule.problems.append("the row states no mode")
            return
        }
        switch words.value(mode) {
        case "yes": rule.enabled = true
        case "no": rule.enabled = false
        default: rule.problems.append("mode '\(mode.prefix(40))' is neither Enable nor Disable")
        }
        columns.removeFirst()
        if let direction = columns.first, let value = words.value(direction), value == "in" || value == "out" {
            rule.direction = value == "in" ? .inbound : .outbound
            columns.removeFirst()
        }
    }

    // MARK: - Event exports as XML

    private var eventBytes: [UInt8] = []
    private var eventLine = (0, 0)
    /// The longest event read (a longer one is skipped, and says so).
    static let maximumEventBytes = 256 << 10
    private var eventTooLong = false

    private mutating func parseEventXML(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        let bytes = line.buffer
        var index = 0
        while index < bytes.count {
            if eventBytes.isEmpty && !eventTooLong {
                // Between events: look for the next "<Event " or "<Event>".
                guard let start = Bytes.find("<Event", in: bytes, from: index) else { return }
                let after = start + 6
                guard after < bytes.count, bytes[after] == 0x20 || bytes[after] == UInt8(ascii: ">") else {
                    index = after  // <Events>, <EventData>
                    continue
                }
                eventLine = (line.number, line.byteOffset)
                index = start
                eventBytes.append(contentsOf: [UInt8(ascii: "<")])
                index += 1
            }
            if let end = Bytes.find("</Event>", in: bytes, from: index) {
                let stop = end + 8
                if !eventTooLong { eventBytes.append(contentsOf: bytes[index..<stop]) }
                index = stop
                let event = eventBytes
                let tooLong = eventTooLong
                eventBytes.removeAll(keepingCapacity: true)
                eventTooLong = false
                try emitEvent(event, tooLong: tooLong, emit)
            } else {
                if !eventTooLong {
                    eventBytes.append(contentsOf: bytes[index...])
                    eventBytes.append(0x20)
                    if eventBytes.count > Self.maximumEventBytes {
                        eventTooLong = true
                        eventBytes = [0x20]
                    }
                }
                return
            }
        }
    }

    private func emitEvent(_ bytes: [UInt8], tooLong: Bool, _ emit: (RecordDraft) throws -> Void) rethrows {
        if tooLong {
            var rule = FirewallRule()
            rule.problems = ["an event longer than \(Self.maximumEventBytes >> 10) KiB was skipped"]
            try emitRule(
                FirewallChange(kind: .snapshot, rule: rule), text: Array("<Event …>".utf8), line: eventLine.0,
                offset: eventLine.1, event: nil, emit)
            return
        }
        let event = EventXML(bytes)
        let level: String =
            switch event.level {
            case "1": "Critical"
            case "2": "Error"
            case "3": "Warning"
            case "4", "0": "Information"
            default: event.level ?? ""
            }
        let info = EventInfo(
            source: event.provider ?? "", eventID: event.eventID, level: level, time: event.time ?? "",
            computer: event.computer)
        if let id = event.eventID, let kind = words.change(ofEvent: id),
            (event.provider ?? "").lowercased().contains("firewall")
        {
            let rule = Self.rule(event.data, words: words, kind: kind)
            try emitRule(
                FirewallChange(kind: kind, rule: rule, time: event.time, sequence: event.recordID),
                text: Array("Event \(id) \(rule.displayName)".utf8), line: eventLine.0, offset: eventLine.1,
                event: info, emit)
            return
        }
        // Another event: its message when the export rendered it, else its data as "Name: value".
        let message =
            event.message
            ?? event.data.map { $0.name.isEmpty ? $0.value : "\($0.name): \($0.value)" }.joined(separator: "; ")
        let failed = level == "Error" || level == "Critical"
        try Array(message.utf8).withUnsafeBufferPointer { buffer in
            try emit(
                RecordDraft(
                    bytes: buffer, path: path, line: eventLine.0, byteOffset: eventLine.1, format: format,
                    kind: .event, context: info.source.isEmpty ? [] : [info.source], clock: nil, inRollback: false,
                    outcome: failed ? .failure(code: event.eventID.map(String.init)) : nil, number: event.eventID,
                    event: info))
        }
    }

    /// A firewall event's rule, from its `EventData` (the schema's names and numbers).
    static func rule(
        _ data: [(name: String, value: String)], words: FirewallWords, kind: FirewallChange.Kind = .added
    ) -> FirewallRule {
        var rule = FirewallRule()
        rule.action = nil
        var values: [String: String] = [:]
        for (name, value) in data where !name.isEmpty { values[name.lowercased()] = value }
        if kind == .added || kind == .modified {
            // An added or modified rule states these; without them it cannot be read as open.
            for (name, field) in [("direction", "Direction"), ("action", "Action"), ("protocol", "Protocol")]
            where values[name] == nil {
                rule.problems.append("the event states no \(field)")
            }
            if values["remoteaddresses"] == nil { rule.scopeStated = false }
        }
        rule.id = values["ruleid"]
        rule.name = values["rulename"]
        rule.group = values["embeddedcontext"].flatMap { $0.isEmpty ? nil : $0 }
        if let path = values["applicationpath"], !path.isEmpty, !words.isAny(path) { rule.program = path }
        if let service = values["servicename"], !service.isEmpty, !words.isAny(service) { rule.service = service }
        switch values["direction"] {
        case "1"?: rule.direction = .inbound
        case "2"?: rule.direction = .outbound
        case nil: break
        case let other?: rule.problems.append("direction '\(other.prefix(20))' could not be read")
        }
        switch values["action"] {
        case "3"?: rule.action = .allow
        case "2"?: rule.action = .block
        case nil: break
        case let other?: rule.problems.append("action '\(other.prefix(20))' could not be read")
        }
        switch values["active"] {
        case "1"?: rule.enabled = true
        case "0"?: rule.enabled = false
        case nil: break
        case let other?: rule.problems.append("active '\(other.prefix(20))' could not be read")
        }
        if let text = values["protocol"] {
            let (number, problem) = FirewallRule.protocolNumber(text, anyWords: words.anyWords)
            rule.protocolNumber = number
            if let problem { rule.problems.append(problem) }
        }
        if let text = values["localports"], !text.isEmpty {
            let (ports, problems) = FirewallRule.ports(text, anyWords: words.anyWords)
            rule.localPorts = ports
            rule.problems += problems
        }
        if let text = values["remoteaddresses"], !text.isEmpty, !words.isAny(text) { rule.remoteAddresses = [text] }
        if let text = values["localaddresses"], !text.isEmpty, !words.isAny(text) { rule.localAddresses = [text] }
        if let text = values["securityoptions"], !text.isEmpty, text != "0" {
            rule.security = "SecurityOptions \(text)"
        }
        if !rule.localPorts.isEmpty, rule.protocolNumber != 6, rule.protocolNumber != 17 {
            rule.problems.append("local ports without TCP or UDP")
        }
        if let text = values["profiles"], let mask = Int(text) {
            // 1 Domain, 2 Private, 4 Public; all three (or the whole mask) is every profile.
            let named = [(1, "Domain"), (2, "Private"), (4, "Public")].filter { mask & $0.0 != 0 }.map(\.1)
            rule.profiles = named.count == 3 ? [] : named
        }
        return rule
    }
}

/// The parts of one `<Event>` element that ocslog reads, found by tag name; entities are decoded
/// (the five of XML and numeric references), never defined or expanded otherwise.
struct EventXML {
    var provider: String?
    var eventID: Int?
    var level: String?
    var time: String?
    var computer: String?
    var message: String?
    var recordID: Int?
    var data: [(name: String, value: String)] = []

    init(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        provider = Self.attribute("Name", ofTag: "Provider", in: text)
        eventID = Self.element("EventID", in: text).flatMap { Int($0) }
        level = Self.element("Level", in: text)
        time = Self.attribute("SystemTime", ofTag: "TimeCreated", in: text)
        computer = Self.element("Computer", in: text).flatMap { $0.isEmpty ? nil : $0 }
        message = Self.element("Message", in: text).flatMap { $0.isEmpty ? nil : $0 }
        recordID = Self.element("EventRecordID", in: text).flatMap { Int($0) }
        var from = text.startIndex
        while let open = text.range(of: "<Data", range: from..<text.endIndex) {
            guard let close = text.range(of: ">", range: open.upperBound..<text.endIndex) else { break }
            let tag = String(text[open.upperBound..<close.lowerBound])
            guard tag.isEmpty || tag.first == " " || tag == "/" || tag.hasSuffix("/") else {
                from = close.upperBound
                continue
            }
            let name = Self.attributeValue("Name", in: tag) ?? ""
            if tag.hasSuffix("/") {
                data.append((name, ""))
                from = close.upperBound
                continue
            }
            guard let end = text.range(of: "</Data>", range: close.upperBound..<text.endIndex) else { break }
            data.append((name, Entities.decode(String(text[close.upperBound..<end.lowerBound])).trimmingSpaces()))
            from = end.upperBound
        }
    }

    /// The text of the first `<name …>text</name>`.
    static func element(_ name: String, in text: String) -> String? {
        var from = text.startIndex
        while let open = text.range(of: "<" + name, range: from..<text.endIndex) {
            guard let close = text.range(of: ">", range: open.upperBound..<text.endIndex) else { return nil }
            let next = text[open.upperBound...].first
            guard next == ">" || next == " " || next == "/" else {
                from = open.upperBound
                continue
            }
            if text[..<close.lowerBound].hasSuffix("/") { return "" }
            guard let end = text.range(of: "</" + name + ">", range: close.upperBound..<text.endIndex) else {
                return nil
            }
            return Entities.decode(String(text[close.upperBound..<end.lowerBound])).trimmingSpaces()
        }
        return nil
    }

    static func attribute(_ attribute: String, ofTag tag: String, in text: String) -> String? {
        guard let open = text.range(of: "<" + tag + " "),
            let close = text.range(of: ">", range: open.upperBound..<text.endIndex)
        else { return nil }
        return attributeValue(attribute, in: String(text[open.upperBound..<close.lowerBound]))
    }

    /// `Name='value'` or `Name="value"` in a tag's text.
    static func attributeValue(_ name: String, in tag: String) -> String? {
        var from = tag.startIndex
        while let found = tag.range(of: name + "=", range: from..<tag.endIndex) {
            from = found.upperBound
            if found.lowerBound != tag.startIndex, !tag[tag.index(before: found.lowerBound)].isWhitespace { continue }
            guard let quote = tag[found.upperBound...].first, quote == "'" || quote == "\"" else { continue }
            let start = tag.index(after: found.upperBound)
            guard let end = tag[start...].firstIndex(of: quote) else { return nil }
            return Entities.decode(String(tag[start..<end]))
        }
        return nil
    }
}
