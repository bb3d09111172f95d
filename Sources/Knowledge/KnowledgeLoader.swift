import Foundation
import PCRE2
import ScanModel
import Yams

/// Reads knowledge files (YAML), lets later files replace entries of earlier ones by id, and
/// validates everything into a ``KnowledgeBase``.
struct KnowledgeLoader {
    private var roles: [(String, RawRole)] = []
    private var ports: [(String, RawPort)] = []
    private var translation: [(String, RawTranslation)] = []
    private var signatures: [(String, RawSignature)] = []
    private var knownIssues: [(String, RawKnownIssue)] = []
    private var codes: [(String, RawCode)] = []
    /// Where each id's entry is in its list.
    private var positions = (
        roles: [String: Int](), signatures: [String: Int](), knownIssues: [String: Int](), codes: [String: Int]()
    )
    private var definitions: [String: String] = [:]
    private var prefilter: [String] = []
    private var attention: (String, String)?
    private var vocabulary = FieldVocabulary()
    private var firewall = FirewallVocabulary()

    /// Adds one file's entries.
    mutating func add(file: String, text: String) throws(KnowledgeError) {
        try add(file: file, raw: try Self.read(file: file, text: text))
    }

    /// One YAML file as written.
    fileprivate static func read(file: String, text: String) throws(KnowledgeError) -> RawFile {
        let raw: RawFile
        do {
            raw = try YAMLDecoder().decode(RawFile.self, from: text)
        } catch {
            throw KnowledgeError(file: file, entry: nil, message: "not a valid knowledge file: \(Self.describe(error))")
        }
        // (Composed again for the keys: a node composed here resolves `yes` as a boolean, which the
        // decoder's own reading keeps a string. YAML is read only for `--knowledge DIR` and to
        // compile the built-in files, not at start-up.)
        if let node = try? Yams.compose(yaml: text) { try checkKeys(file: file, node) }
        return raw
    }

    /// The keys an entry of each list may have. A key not listed is refused, never dropped: in a
    /// flow mapping an unquoted comma ends a value (`purpose: DCOM/RPC (WMI, move users)` makes a
    /// key `move users)`), and a dropped key would shorten the text silently.
    static let entryKeys: [String: Set<String>] = [
        "roles": ["id", "name", "weight", "steps", "products", "programs", "services", "files"],
        "ports": [
            "role", "interface", "ports", "protocol", "purpose", "origin", "programs", "from", "to", "direction",
            "reference",
        ],
        "translation": ["role", "interface", "address", "when", "message", "reference"],
        "signatures": ["id", "type", "title", "pattern", "when", "samples"],
        "known-issues": [
            "id", "title", "severity", "roles", "match", "explanation", "fix", "references", "origin",
        ],
        "codes": ["code", "kind", "meaning", "origin"],
    ]

    private static func checkKeys(file: String, _ node: Node) throws(KnowledgeError) {
        guard case .mapping(let top) = node else { return }
        for (sectionKey, section) in top {
            guard let name = sectionKey.string, let allowed = entryKeys[name], case .sequence(let entries) = section
            else { continue }
            for entry in entries {
                guard case .mapping(let fields) = entry else { continue }
                for key in fields.keys {
                    guard let key = key.string, !allowed.contains(key) else { continue }
                    let id =
                        fields["id"]?.string
                        ?? [fields["role"]?.string, fields["ports"]?.string]
                        .compactMap { $0 }.joined(separator: " ")
                    throw KnowledgeError(
                        file: file, entry: id.isEmpty ? name : id,
                        message:
                            "unknown key '\(key)' (line \(entry.mark?.line ?? 0); keys: "
                            + "\(allowed.sorted().joined(separator: ", ")); a comma in a value needs quotes)")
                }
            }
        }
    }

    /// The compiled form of YAML files (name and text, in order): JSON, keys sorted, one file per entry.
    static func compile(_ files: [(name: String, text: String)]) throws(KnowledgeError) -> String {
        var compiled = CompiledKnowledge(files: [])
        for (name, text) in files {
            compiled.files.append(.init(name: name, raw: try read(file: name, text: text)))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(compiled), as: UTF8.self) + "\n"
        } catch {
            throw KnowledgeError(file: "knowledge.json", entry: nil, message: "cannot encode: \(error)")
        }
    }

    /// Adds the files of a compiled form, each named `embedded:NAME`.
    mutating func add(compiled bytes: [UInt8]) throws(KnowledgeError) {
        let compiled: CompiledKnowledge
        do {
            compiled = try JSONDecoder().decode(CompiledKnowledge.self, from: Data(bytes))
        } catch {
            throw KnowledgeError(file: "embedded:knowledge.json", entry: nil, message: "not readable: \(error)")
        }
        for file in compiled.files { try add(file: "embedded:\(file.name)", raw: file.raw) }
    }

    private mutating func add(file: String, raw: RawFile) throws(KnowledgeError) {
        for (key, value) in raw.definitions ?? [:] { definitions[key] = value }
        for word in raw.prefilter ?? [] where !prefilter.contains(word.lowercased()) {
            prefilter.append(word.lowercased())
        }
        if let pattern = raw.attention { attention = (file, pattern) }
        if let words = raw.vocabulary { vocabulary.merge(try Self.vocabulary(words, file: file)) }
        if let words = raw.firewall {
            if let problem = words.problem() {
                throw KnowledgeError(file: file, entry: "firewall", message: problem)
            }
            firewall.merge(words)
        }
        for role in raw.roles ?? [] { Self.replace(&roles, &positions.roles, file, role, id: role.id) }
        // Ports have no id: a file that lists ports for a role replaces that role's ports.
        let portRoles = Set((raw.ports ?? []).map(\.role))
        ports.removeAll { portRoles.contains($0.1.role) && $0.0 != file }
        ports += (raw.ports ?? []).map { (file, $0) }
        if let rules = raw.translation { translation = rules.map { (file, $0) } }
        for signature in raw.signatures ?? [] {
            Self.replace(&signatures, &positions.signatures, file, signature, id: signature.id)
        }
        for issue in raw.knownIssues ?? [] {
            Self.replace(&knownIssues, &positions.knownIssues, file, issue, id: issue.id)
        }
        for code in raw.codes ?? [] {
            Self.replace(&codes, &positions.codes, file, code, id: "\(code.kind)|\(ErrorCode.normalize(code.code))")
        }
    }

    /// Checks a file's vocabulary: known fields, protocols and sides, no empty words.
    private static func vocabulary(_ raw: RawVocabulary, file: String) throws(KnowledgeError) -> FieldVocabulary {
        var built = FieldVocabulary()
        for (name, words) in raw.keys ?? [:] {
            guard let field = FieldVocabulary.Field(rawValue: name) else {
                let known = FieldVocabulary.Field.allCases.map(\.rawValue).joined(separator: ", ")
                throw KnowledgeError(
                    file: file, entry: "vocabulary.keys", message: "unknown field '\(name)' (\(known))")
            }
            built.keys[field] = words
        }
        for (name, words) in raw.protocols ?? [:] {
            guard ["tcp", "udp", "both"].contains(name) else {
                throw KnowledgeError(
                    file: file, entry: "vocabulary.protocols", message: "unknown protocol '\(name)' (tcp, udp, both)")
            }
            built.protocols[name] = words
        }
        for (name, words) in raw.interfaces ?? [:] {
            guard let side = EdgeInterface(rawValue: name) else {
                throw KnowledgeError(
                    file: file, entry: "vocabulary.interfaces", message: "unknown side '\(name)' (external, internal)")
            }
            built.interfaces[side] = words
        }
        built.ranges = raw.ranges ?? []
        built.lists = raw.lists ?? []
        built.portWords = raw.portWords ?? []
        built.joiners = raw.joiners ?? []
        built.outbound = raw.outbound ?? []
        built.blocking = raw.blocking ?? []
        built.sections = raw.sections ?? []
        built.failures = raw.failures ?? []
        built.negations = raw.negations ?? []
        built.inbound = raw.inbound ?? []
        built.headingClasses = raw.headingClasses ?? []
        built.headingLabels = raw.headingLabels ?? []
        built.valueKeys = raw.valueKeys ?? []
        built.rangeStarts = raw.rangeStarts ?? []
        built.rangeEnds = raw.rangeEnds ?? []
        built.foreign = raw.foreign ?? []
        built.units = raw.units ?? []
        built.counters = raw.counters ?? []
        built.entryWords = raw.entryWords ?? []
        built.computerKeys = raw.computerKeys ?? []
        built.logStarts = raw.logStarts ?? []
        built.logEnds = raw.logEnds ?? []
        var all: [String] = Array(built.keys.values.joined())
        all += Array(built.protocols.values.joined())
        all += Array(built.interfaces.values.joined())
        for list in [built.ranges, built.lists, built.portWords, built.joiners, built.outbound] { all += list }
        for list in [built.blocking, built.sections, built.failures, built.negations, built.inbound] { all += list }
        for list in [built.headingClasses, built.headingLabels, built.valueKeys, built.rangeStarts, built.rangeEnds] {
            all += list
        }
        for list in [built.foreign, built.units, built.counters, built.entryWords] { all += list }
        for list in [built.computerKeys, built.logStarts, built.logEnds] { all += list }
        if all.contains(where: { (word: String) in word.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw KnowledgeError(file: file, entry: "vocabulary", message: "a word is empty")
        }
        return built
    }

    /// Adds an entry, or replaces the one with the same id in place (`positions`: id → index).
    private static func replace<T>(
        _ list: inout [(String, T)], _ positions: inout [String: Int], _ file: String, _ entry: T, id: String
    ) {
        if let index = positions[id] {
            list[index] = (file, entry)
        } else {
            positions[id] = list.count
            list.append((file, entry))
        }
    }

    private static func describe(_ error: Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
                .dataCorrupted(let context):
                let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(
                    separator: ".")
                return "\(context.debugDescription) at \(path.isEmpty ? "top level" : path)"
            @unknown default:
                return String(describing: error)
            }
        }
        return String(describing: error)
    }

    // MARK: - Validation

    /// An entry's Edge side, when it names one.
    private func edgeInterface(_ text: String?, file: String, entry: String) throws(KnowledgeError) -> EdgeInterface? {
        guard let text else { return nil }
        guard let interface = EdgeInterface(rawValue: text) else {
            throw KnowledgeError(file: file, entry: entry, message: "interface must be external or internal")
        }
        return interface
    }

    func build() throws(KnowledgeError) -> KnowledgeBase {
        var seenRoles = Set<RoleID>()
        var builtRoles: [Role] = []
        for (file, raw) in roles {
            guard raw.id.first.map({ ("a"..."z").contains($0) }) == true,
                raw.id.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
            else {
                throw KnowledgeError(
                    file: file, entry: raw.id, message: "a role id is lower-case letters, digits and '-'")
            }
            guard RoleID(raw.id) != Role.unknownID, seenRoles.insert(RoleID(raw.id)).inserted else {
                throw KnowledgeError(file: file, entry: raw.id, message: "duplicate or reserved role id")
            }
            builtRoles.append(
                Role(
                    id: RoleID(raw.id), name: raw.name, weight: raw.weight ?? 1, steps: raw.steps ?? [],
                    products: raw.products ?? [],
                    programs: raw.programs ?? [], services: raw.services ?? [], files: raw.files ?? []))
        }
        let roleIDs = seenRoles

        var builtPorts: [DocumentedPort] = []
        for (file, raw) in ports {
            let entry = "\(raw.role) \(raw.ports)"
            guard roleIDs.contains(RoleID(raw.role)) else {
                throw KnowledgeError(file: file, entry: entry, message: "unknown role '\(raw.role)'")
            }
            let range: PortRange
            switch PortRange.parse(raw.ports) {
            case .success(let parsed): range = parsed
            case .failure(let error): throw KnowledgeError(file: file, entry: entry, message: error.description)
            }
            var protocols: [TransportProtocol] = []
            for name in raw.protocol.values {
                guard let parsed = TransportProtocol(rawValue: name.lowercased()) else {
                    throw KnowledgeError(file: file, entry: entry, message: "unknown protocol '\(name)' (tcp or udp)")
                }
                protocols.append(parsed)
            }
            let interface = try edgeInterface(raw.interface, file: file, entry: entry)
            var peers: [PortPeer] = []
            for text in raw.from ?? [] {
                guard let peer = PortPeer(text, roles: roleIDs) else {
                    throw KnowledgeError(
                        file: file, entry: entry,
                        message: "from '\(text)' is not internet, perimeter, internal, a role or ROLE:external|internal"
                    )
                }
                peers.append(peer)
            }
            var targets: [PortPeer] = []
            for text in raw.to ?? [] {
                guard let peer = PortPeer(text, roles: roleIDs) else {
                    throw KnowledgeError(
                        file: file, entry: entry,
                        message: "to '\(text)' is not internet, perimeter, internal, a role or ROLE:external|internal")
                }
                targets.append(peer)
            }
            var direction = PortDirection.inbound
            if let text = raw.direction {
                guard let parsed = PortDirection(rawValue: text) else {
                    throw KnowledgeError(file: file, entry: entry, message: "direction must be in or both")
                }
                direction = parsed
            }
            builtPorts.append(
                DocumentedPort(
                    role: RoleID(raw.role), interface: interface, range: range, protocols: protocols,
                    purpose: raw.purpose,
                    origin: raw.origin ?? .likely, programs: raw.programs ?? [], from: peers, direction: direction,
                    to: targets, reference: raw.reference))
        }
        var builtTranslation: [TranslationRule] = []
        for (file, raw) in translation {
            let entry = "translation \(raw.role)"
            guard roleIDs.contains(RoleID(raw.role)) else {
                throw KnowledgeError(file: file, entry: entry, message: "unknown role '\(raw.role)'")
            }
            guard let address = TranslationRule.Address(rawValue: raw.address) else {
                throw KnowledgeError(file: file, entry: entry, message: "address must be av or any")
            }
            guard let when = TranslationRule.When(rawValue: raw.when) else {
                throw KnowledgeError(file: file, entry: entry, message: "when must be translated or several-servers")
            }
            builtTranslation.append(
                TranslationRule(
                    role: RoleID(raw.role), interface: try edgeInterface(raw.interface, file: file, entry: entry),
                    address: address, when: when, message: raw.message,
                    reference: raw.reference))
        }

        var builtSignatures: [Signature] = []
        var signatureIDs = Set<String>()
        for (file, raw) in signatures {
            guard signatureIDs.insert(raw.id).inserted else {
                throw KnowledgeError(file: file, entry: raw.id, message: "duplicate signature id")
            }
            let pattern = try raw.pattern.map { text throws(KnowledgeError) in
                try compile(text, file: file, entry: raw.id)
            }
            var kinds: [RecordKind] = []
            for kind in raw.when?.kinds ?? [] {
                guard let parsed = RecordKind(rawValue: kind) else {
                    let names = RecordKind.allCases.map(\.rawValue).sorted().joined(separator: ", ")
                    throw KnowledgeError(file: file, entry: raw.id, message: "unknown record kind '\(kind)' (\(names))")
                }
                kinds.append(parsed)
            }
            if let outcome = raw.when?.outcome, !["success", "failure"].contains(outcome) {
                throw KnowledgeError(file: file, entry: raw.id, message: "outcome must be success or failure")
            }
            let when = try raw.when.map { condition throws(KnowledgeError) in
                try RecordCondition(
                    kinds: kinds, numbers: numbers(condition.numbers ?? [], file: file, entry: raw.id),
                    outcome: condition.outcome, levels: (condition.levels ?? []).map { $0.lowercased() },
                    context: condition.context.map { text throws(KnowledgeError) in
                        try compile(text, file: file, entry: raw.id)
                    })
            }
            guard pattern != nil || when != nil else {
                throw KnowledgeError(
                    file: file, entry: raw.id, message: "a signature needs a pattern, a `when`, or both")
            }
            guard !(raw.samples ?? []).isEmpty else {
                throw KnowledgeError(file: file, entry: raw.id, message: "a signature needs at least one sample")
            }
            builtSignatures.append(
                Signature(
                    id: raw.id, type: raw.type, title: raw.title ?? raw.id, pattern: pattern, when: when,
                    samples: (raw.samples ?? []).map {
                        SignatureSample(text: $0.text, format: $0.format, context: $0.context, yields: $0.yields)
                    },
                    source: file))
        }

        var builtIssues: [KnownIssue] = []
        for (file, raw) in knownIssues {
            for role in raw.roles ?? [] where !roleIDs.contains(RoleID(role)) {
                throw KnowledgeError(file: file, entry: raw.id, message: "unknown role '\(role)'")
            }
            for signature in raw.match.signatures ?? [] where !signatureIDs.contains(signature) {
                throw KnowledgeError(file: file, entry: raw.id, message: "unknown signature '\(signature)'")
            }
            var conditions: [KnownIssueCondition] = []
            for condition in raw.match.conditions ?? [] {
                guard let parsed = KnownIssueCondition(condition, roles: roleIDs) else {
                    throw KnowledgeError(
                        file: file, entry: raw.id,
                        message:
                            "unknown condition '\(condition)' (\(KnownIssueCondition.forms.joined(separator: ", ")))")
                }
                conditions.append(parsed)
            }
            guard let severity = Severity(rawValue: raw.severity) else {
                throw KnowledgeError(file: file, entry: raw.id, message: "severity must be error, warning or info")
            }
            var patterns: [Pattern] = []
            for text in raw.match.patterns ?? [] { patterns.append(try compile(text, file: file, entry: raw.id)) }
            builtIssues.append(
                KnownIssue(
                    id: raw.id, title: raw.title, severity: severity, roles: (raw.roles ?? []).map { RoleID($0) },
                    codes: (raw.match.codes ?? []).map { ErrorCode.normalize($0) }, events: raw.match.events ?? [],
                    signatures: raw.match.signatures ?? [], patterns: patterns, conditions: conditions,
                    explanation: raw.explanation, fix: raw.fix, references: raw.references ?? [],
                    origin: raw.origin ?? .likely))
        }
        var builtCodes: [CodeMeaning] = []
        for (file, raw) in codes {
            guard let kind = CodeMeaning.Kind(rawValue: raw.kind) else {
                throw KnowledgeError(file: file, entry: raw.code, message: "kind must be msi, win32, hresult or ocs")
            }
            let code = ErrorCode.normalize(raw.code)
            let valid = code.hasPrefix("0x") ? UInt32(code.dropFirst(2), radix: 16) != nil : UInt32(code) != nil
            guard valid, !raw.meaning.isEmpty else {
                throw KnowledgeError(
                    file: file, entry: raw.code, message: "a code is a number (decimal or 0x hex) with a meaning")
            }
            builtCodes.append(CodeMeaning(code: code, kind: kind, meaning: raw.meaning, origin: raw.origin ?? .likely))
        }
        guard !prefilter.isEmpty else {
            throw KnowledgeError(file: "signatures", entry: nil, message: "the prefilter word list is empty")
        }
        let prefilterPattern = try compile(
            "(?i)" + prefilter.map(Self.escape).joined(separator: "|"), file: "signatures", entry: "prefilter")
        let attentionPattern = try attention.map { file, text throws(KnowledgeError) in
            try compile(text, file: file, entry: "attention")
        }
        return KnowledgeBase(
            roles: builtRoles, ports: builtPorts, translation: builtTranslation, signatures: builtSignatures,
            knownIssues: builtIssues,
            codes: builtCodes,
            prefilterWords: prefilter, prefilter: prefilterPattern, attention: attentionPattern,
            vocabulary: vocabulary, firewall: firewall)
    }

    /// A literal word as a pattern (PCRE2 metacharacters escaped).
    static func escape(_ word: String) -> String {
        var escaped = ""
        for character in word {
            if "\\^$.|?*+()[]{}".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// Compiles a pattern after replacing `{{name}}` with its definition.
    private func compile(_ text: String, file: String, entry: String) throws(KnowledgeError) -> Pattern {
        var expanded = text
        for (name, value) in definitions { expanded = expanded.replacingOccurrences(of: "{{\(name)}}", with: value) }
        // (PCRE2, the one regex engine: a `{{name}}` no definition replaced.)
        if let finder = try? Pattern("\\{\\{[a-z-]+\\}\\}").makeMatcher() {
            var copy = expanded
            let unknown = copy.withUTF8 { bytes -> String? in
                let raw = UnsafeRawBufferPointer(bytes)
                guard finder.firstMatch(in: raw), let range = finder.range(ofGroup: 0) else { return nil }
                return String(decoding: raw[range], as: UTF8.self)
            }
            if let unknown { throw KnowledgeError(file: file, entry: entry, message: "unknown definition \(unknown)") }
        }
        do {
            return try Pattern(expanded)
        } catch {
            throw KnowledgeError(file: file, entry: entry, message: error.description)
        }
    }

    private func numbers(_ values: [StringOrInt], file: String, entry: String) throws(KnowledgeError) -> [ClosedRange<
        Int
    >] {
        var ranges: [ClosedRange<Int>] = []
        for value in values {
            switch value {
            case .int(let number): ranges.append(number...number)
            case .string(let text):
                let parts = text.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard parts.count == 2, let low = parts[0], let high = parts[1], low <= high else {
                    throw KnowledgeError(file: file, entry: entry, message: "'\(text)' is not a number or a range A-B")
                }
                ranges.append(low...high)
            }
        }
        return ranges
    }
}

// MARK: - The files as written

private struct RawCode: Codable {
    var code: String
    var kind: String
    var meaning: String
    var origin: FactOrigin?
}

private struct RawFile: Codable {
    var definitions: [String: String]?
    var prefilter: [String]?
    var attention: String?
    var roles: [RawRole]?
    var ports: [RawPort]?
    var translation: [RawTranslation]?
    var signatures: [RawSignature]?
    var knownIssues: [RawKnownIssue]?
    var codes: [RawCode]?
    var vocabulary: RawVocabulary?
    var firewall: FirewallVocabulary?

    enum CodingKeys: String, CodingKey {
        case definitions, prefilter, attention, roles, ports, signatures, codes, vocabulary, firewall, translation
        case knownIssues = "known-issues"
    }
}

private struct RawVocabulary: Codable {
    var keys: [String: [String]]?
    var ranges: [String]?
    var lists: [String]?
    var portWords: [String]?
    var protocols: [String: [String]]?
    var joiners: [String]?
    var interfaces: [String: [String]]?
    var outbound: [String]?
    var blocking: [String]?
    var sections: [String]?
    var failures: [String]?
    var negations: [String]?
    var inbound: [String]?
    var headingClasses: [String]?
    var headingLabels: [String]?
    var valueKeys: [String]?
    var rangeStarts: [String]?
    var rangeEnds: [String]?
    var foreign: [String]?
    var units: [String]?
    var counters: [String]?
    var entryWords: [String]?
    var computerKeys: [String]?
    var logStarts: [String]?
    var logEnds: [String]?

    enum CodingKeys: String, CodingKey {
        case keys, ranges, lists, protocols, joiners, interfaces, outbound, blocking, sections, failures, negations
        case inbound, foreign, units, counters
        case entryWords = "entry-words"
        case headingClasses = "heading-classes"
        case headingLabels = "heading-labels"
        case valueKeys = "value-keys"
        case rangeStarts = "range-starts"
        case rangeEnds = "range-ends"
        case portWords = "port-words"
        case computerKeys = "computer-keys"
        case logStarts = "log-starts"
        case logEnds = "log-ends"
    }
}

private struct RawRole: Codable {
    var id: String
    var name: String
    var weight: Int?
    var steps: [String]?
    var products: [String]?
    var programs: [String]?
    var services: [String]?
    var files: [String]?
}

private struct RawPort: Codable {
    var role: String
    var interface: String?
    var ports: String
    var `protocol`: OneOrMany
    var purpose: String
    var origin: FactOrigin?
    var programs: [String]?
    var from: [String]?
    var to: [String]?
    var direction: String?
    var reference: String?
}

private struct RawTranslation: Codable {
    var role: String
    var interface: String?
    var address: String
    var when: String
    var message: String
    var reference: String
}

private struct RawSignature: Codable {
    struct When: Codable {
        var kinds: [String]?
        var numbers: [StringOrInt]?
        var outcome: String?
        var levels: [String]?
        var context: String?
    }

    struct Sample: Codable {
        var text: String
        var format: String?
        var context: String?
        var yields: [String]?

        init(from decoder: Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self.text = text
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            text = try container.decode(String.self, forKey: .text)
            format = try container.decodeIfPresent(String.self, forKey: .format)
            context = try container.decodeIfPresent(String.self, forKey: .context)
            yields = try container.decodeIfPresent([String].self, forKey: .yields)
        }

        enum CodingKeys: String, CodingKey { case text, format, context, yields }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(text, forKey: .text)
            try container.encodeIfPresent(format, forKey: .format)
            try container.encodeIfPresent(context, forKey: .context)
            try container.encodeIfPresent(yields, forKey: .yields)
        }
    }

    var id: String
    var type: SignatureType
    var title: String?
    var pattern: String?
    var when: When?
    var samples: [Sample]?
}

private struct RawKnownIssue: Codable {
    struct Match: Codable {
        var codes: [String]?
        var events: [Int]?
        var signatures: [String]?
        var patterns: [String]?
        var conditions: [String]?
    }

    var id: String
    var title: String
    var severity: String
    var roles: [String]?
    var match: Match
    var explanation: String
    var fix: String
    var references: [String]?
    var origin: FactOrigin?
}

private enum StringOrInt: Codable {
    case string(String)
    case int(Int)

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            self = .int(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .int(let number): try container.encode(number)
        }
    }
}

private struct OneOrMany: Codable {
    var values: [String]

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            values = [one]
        } else {
            values = try container.decode([String].self)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }
}

/// The built-in knowledge files as read, in the order they are added: what the binary embeds
/// (`Data/knowledge.json`, made from the YAML files by ``KnowledgeBase/compile(_:)``), so that
/// start-up decodes JSON instead of YAML.
struct CompiledKnowledge: Codable {
    struct File: Codable {
        var name: String
        fileprivate var raw: RawFile
    }

    var files: [File]
}
