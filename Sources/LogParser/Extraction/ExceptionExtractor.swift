import Foundation
import Knowledge
import PCRE2
import ScanModel

/// What one exception entry gave: the exceptions it states, and what could not be used.
struct Extraction {
    var exceptions: [FirewallException] = []
    /// Ports that are no ports (`0`, `70000`, a backwards range), as messages.
    var invalid: [String] = []
    /// Port or protocol values that could not be read (`Port=dynamic`).
    var unreadable: [String] = []
    /// The entry holds ruleset or shell syntax.
    var suspicious = false
    /// Something of an entry was read (ports, a program, or a value that could not be read).
    var isEntry = false
}

/// Turns exception entries into firewall exceptions: the field reader reads the entry, ports are
/// checked, and a protocol or an Edge side the entry does not state is taken from the documented
/// ports only where they leave one choice. A port is never added: an entry that names a program and
/// no port gets the documented ports of that program with origin `documented`, which no ruleset
/// contains unless asked (`--documented`).
struct ExceptionExtractor {
    let knowledge: KnowledgeBase
    let reader: FieldReader
    private let programMatcher: Matcher?
    private let serviceMatcher: Matcher?
    private let serviceGroups: [String]
    /// Section words, lower-cased.
    private let sections: [String]
    private let negations: Set<String>
    private let sectionWords: LiteralSet
    private let entryWords: LiteralSet
    private let resolver: RoleResolver

    init(knowledge: KnowledgeBase) {
        self.knowledge = knowledge
        resolver = RoleResolver(knowledge)
        reader = FieldReader(vocabulary: knowledge.vocabulary)
        programMatcher = knowledge.signatures.first { $0.id == "field-program" }?.pattern?.makeMatcher()
        let service = knowledge.signatures.first { $0.id == "field-service" }?.pattern
        serviceMatcher = service?.makeMatcher()
        serviceGroups = ["service", "service2", "service3"].filter { service?.groupNumbers[$0] != nil }
        sections = knowledge.vocabulary.sections.map { $0.lowercased() }
        negations = Set(knowledge.vocabulary.negations.map { $0.lowercased() })
        sectionWords = LiteralSet(knowledge.vocabulary.sections)
        entryWords = LiteralSet(knowledge.vocabulary.entryWords)
    }

    /// Whether a text (a step, task or action title, or an XML element path) speaks of the firewall,
    /// and not as "not firewall".
    func namesSection(_ text: String) -> Bool {
        // Most texts hold no section word: one pass of the literal set rules them out.
        var copy = text
        guard copy.withUTF8({ sectionWords.firstMatch(in: UnsafeRawBufferPointer($0)) }) else { return false }
        let lowered = text.lowercased()
        for section in sections {
            var searchFrom = lowered.startIndex
            while let found = lowered.range(of: section, range: searchFrom..<lowered.endIndex) {
                searchFrom = found.upperBound
                let before = lowered[..<found.lowerBound].split(whereSeparator: { !$0.isLetter }).last.map(String.init)
                if let before, negations.contains(before) { continue }
                return true
            }
        }
        return false
    }

    /// Whether a text speaks of exceptions or rules (plain text opens a section only with this too).
    func namesEntryWord(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { entryWords.firstMatch(in: UnsafeRawBufferPointer($0)) }
    }

    /// Whether any enclosing step, task or action is a firewall section.
    func isSection(_ context: [String]) -> Bool { context.contains(where: namesSection) }

    /// Reads an entry; `role` is the role the entry belongs to as far as known (nil: not yet known).
    func extract(_ record: Record, role: RoleID?, evidence: Evidence) -> Extraction {
        var fields = reader.read(text: record.text, fields: record.fields)
        var result = Extraction()
        if fields.program == nil, record.fields.isEmpty, let programMatcher {
            fields.program = first(programMatcher, ["program"], in: record.text)
        }
        if let program = fields.program, !program.lowercased().hasSuffix(".exe") {
            // A program field that names no executable ("System", "Any") is a name, not a program.
            if fields.name == nil { fields.name = program }
            fields.program = nil
        }
        var service = fields.name
        if service == nil, let serviceMatcher { service = first(serviceMatcher, serviceGroups, in: record.text) }
        // A side the entry does not state may be stated by its section ("Binding scope=External",
        // "Add firewall exceptions on the internal interface"): the nearest heading that names one.
        if fields.interface == nil {
            fields.interface = record.context.reversed().lazy.compactMap { self.reader.side(in: $0) }.first
        }
        // An outbound or blocking entry is understood: it opens nothing.
        result.isEntry = fields.isEntry || (fields.opensNothing && fields.hasNamedFields)
        result.unreadable = fields.unreadable
        guard !fields.failed, !fields.opensNothing else { return result }
        // Quoted values followed by "; " are ordinary in named fields ("Program=\"…\"; Port=5061"), not in prose.
        result.suspicious =
            Self.hasSuspiciousMarker(record.text, quotedSemicolon: !fields.hasNamedFields) || fields.semicolonAfterPort
        let programRole = fields.program.flatMap { resolver.role(ofProgram: $0) }
        let role = role ?? programRole
        for mention in fields.mentions {
            for item in mention.items {
                guard let low = Port(rawValue: item.low), let high = Port(rawValue: item.high) else {
                    let text = item.low == item.high ? "\(item.low)" : "\(item.low)-\(item.high)"
                    result.invalid.append(PortRangeError.notAPort(text).description)
                    continue
                }
                guard let range = PortRange(low, high) else {
                    result.invalid.append(PortRangeError.backwards(from: item.low, to: item.high).description)
                    continue
                }
                var protocols = mention.protocols.sorted()
                var note: String?
                if protocols.isEmpty {
                    let documented = documentedProtocols(role: role, range: range)
                    if documented.isEmpty {
                        protocols = [.tcp]
                        note = "protocol not stated; assumed tcp"
                    } else {
                        protocols = documented
                        note = "protocol not stated; taken from the documented ports of \(role ?? Role.unknownID)"
                    }
                }
                for transport in protocols {
                    result.exceptions.append(
                        FirewallException(
                            role: role ?? Role.unknownID, protocol: transport, range: range,
                            interface: fields.interface
                                ?? edgeInterface(role: role, range: range, transport: transport),
                            program: fields.program, service: service, origin: .log, evidence: evidence, note: note))
                }
            }
        }
        if fields.mentions.isEmpty, fields.unreadable.isEmpty, let program = fields.program {
            // A program and no port: the documented ports of that program, kept apart (origin documented).
            for port in documentedPorts(role: role, program: program) {
                for transport in port.protocols {
                    result.exceptions.append(
                        FirewallException(
                            role: role ?? Role.unknownID, protocol: transport, range: port.range,
                            interface: port.interface, program: program, service: service, origin: .documented,
                            evidence: evidence,
                            note:
                                "the log names the program but no port; documented ports of \(role ?? Role.unknownID), "
                                + "in rulesets only with --documented"))
                }
            }
        }
        return result
    }

    private func first(_ matcher: Matcher, _ groups: [String], in text: String) -> String? {
        var copy = text
        return copy.withUTF8 { bytes -> String? in
            let raw = UnsafeRawBufferPointer(bytes)
            guard matcher.firstMatch(in: raw) else { return nil }
            for group in groups {
                if let range = matcher.range(ofGroup: group) {
                    return String(decoding: raw[range], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    /// Whether an entry holds text that setup never writes and an attacker might: `` ` ``, `$(`, `{`,
    /// `}`, `&&`, `||`, a line break, and (in prose, where it ends a quoted value early) `"; `.
    static func hasSuspiciousMarker(_ text: String, quotedSemicolon: Bool) -> Bool {
        var previous: UInt8 = 0
        var beforePrevious: UInt8 = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "`"), UInt8(ascii: "{"), UInt8(ascii: "}"), 0x0A: return true
            case UInt8(ascii: "("): if previous == UInt8(ascii: "$") { return true }
            case UInt8(ascii: "&"), UInt8(ascii: "|"): if previous == byte { return true }
            case UInt8(ascii: " "):
                if quotedSemicolon, previous == UInt8(ascii: ";"), beforePrevious == UInt8(ascii: "\"") { return true }
            default: break
            }
            beforePrevious = previous
            previous = byte
        }
        return false
    }

    func documentedProtocols(role: RoleID?, range: PortRange) -> [TransportProtocol] {
        var found: [TransportProtocol] = []
        for port in knowledge.ports where port.role == role && port.range == range {
            for transport in port.protocols where !found.contains(transport) { found.append(transport) }
        }
        return found.sorted()
    }

    /// The Edge interface a port belongs to when the documentation names only one.
    func edgeInterface(role: RoleID?, range: PortRange, transport: TransportProtocol) -> EdgeInterface? {
        let interfaces = Set(
            knowledge.ports.filter { $0.role == role && $0.range == range && $0.protocols.contains(transport) }
                .compactMap(\.interface))
        return interfaces.count == 1 ? interfaces.first : nil
    }

    /// The documented ports of the program itself (none when the documentation names no port for it:
    /// never "every port of the role").
    func documentedPorts(role: RoleID?, program: String) -> [DocumentedPort] {
        let name = (program.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last.map(String.init) ?? program)
            .lowercased()
        return knowledge.ports.filter { $0.role == role && $0.programs.contains { $0.lowercased() == name } }
    }
}
