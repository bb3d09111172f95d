import Foundation
import Knowledge
import ScanModel

/// The fields of one firewall-exception entry, however the log wrote it.
public struct EntryFields: Sendable, Equatable {
    /// Ports stated together with the protocols stated for them (empty: the protocol was not stated).
    public struct Mention: Sendable, Equatable {
        /// Each item as written: a single port or a range, still unchecked (`0`, `70000`, `9-1` are kept
        /// so that the analyzer can report them).
        public var items: [(low: Int, high: Int)]
        public var protocols: Set<TransportProtocol>

        public static func == (lhs: Mention, rhs: Mention) -> Bool {
            lhs.protocols == rhs.protocols && lhs.items.elementsEqual(rhs.items, by: { $0 == $1 })
        }
    }

    public var mentions: [Mention] = []
    /// Port or protocol values that could not be read (`Port=dynamic`), as written.
    public var unreadable: [String] = []
    public var program: String?
    public var name: String?
    /// `external` or `internal`, when the entry states a side.
    public var interface: EdgeInterface?
    /// The entry is outbound or a block: it opens nothing inbound.
    public var opensNothing = false
    /// The entry says it failed ("could not add", "not added").
    public var failed = false
    /// The entry had named fields (keys, table cells, XML attributes or elements).
    public var hasNamedFields = false
    /// A port in prose is followed by a `;` that starts no named field (ruleset syntax: "port 5061; flush").
    public var semicolonAfterPort = false

    /// Whether anything of an exception entry was read (ports, a program, or a value that could not be read).
    public var isEntry: Bool { !mentions.isEmpty || program != nil || !unreadable.isEmpty }
}

/// Reads the fields of a firewall-exception entry from named fields (key/value pairs, table cells
/// named by their header, XML attributes and child elements) and from prose, with every word taken
/// from the knowledge's ``FieldVocabulary``.
///
/// Prose is read as a small grammar over tokens: a port list (`5060, 5061 and 5062`, `50000 to 59999`)
/// counts only when a port word or a protocol is attached to it (`port 5061`, `TCP 5061`, `5061/tcp`,
/// `port 5061 (TCP)`, `5061 over UDP`); any other number (a year, a version, a count, a time) is not
/// a port. Named port fields win over prose: when an entry has one, prose numbers are not read.
public struct FieldReader: Sendable {
    public let vocabulary: FieldVocabulary
    private let rangeWords: [[String]]
    private let listWords: [[String]]
    private let portWords: Set<String>
    private let joiners: Set<String>
    private let protocolPhrases: [(words: [String], protocols: Set<TransportProtocol>, numeric: Bool, bare: Bool)]
    private let interfacePhrases: [(words: [String], side: EdgeInterface)]
    private let failurePhrases: [[String]]
    private let outbound: Set<String>
    /// Direction words long enough to mean a direction in prose ("out" and "in" are everywhere).
    private let proseOutbound: Set<String>
    private let proseInbound: Set<String>
    private let foreign: Set<String>
    /// One-word keys of the interface field ("interface", "side"), which name a side when they follow one.
    private let interfaceWords: Set<String>
    private let units: Set<String>
    private let counters: Set<String>
    private let blocking: Set<String>
    /// The longest key, normalized: longer words are no key (and are not normalized per lookup,
    /// so a megabyte-long word costs its length once, not once per phrase tried).
    private let longestKey: Int

    public init(vocabulary: FieldVocabulary) {
        self.vocabulary = vocabulary
        longestKey = vocabulary.keyIndex.keys.map(\.utf8.count).max() ?? 0
        func phrase(_ text: String) -> [String] { Self.tokenize(text).map(\.text) }
        rangeWords = vocabulary.ranges.map(phrase).filter { !$0.isEmpty }
        listWords = vocabulary.lists.map(phrase).filter { !$0.isEmpty }.sorted { $0.count > $1.count }
        // Port words, and every one-word key of the port field ("LocalPort", "LPort").
        var ports = Set(vocabulary.portWords.map { $0.lowercased() })
        for key in vocabulary.keys[.port, default: []] {
            // "LocalPort 5061": a key written as one word reads as a port word.
            ports.insert(FieldVocabulary.normalizedKey(key))
        }
        portWords = ports
        // Joiners, and the one-word keys of the protocol field ("puerto 1801, protocolos TCP y UDP").
        var joinerWords = Set(vocabulary.joiners.map { $0.lowercased() })
        for key in vocabulary.keys[.protocol, default: []] where phrase(key).count == 1 {
            joinerWords.insert(key.lowercased())
        }
        joiners = joinerWords
        var protocols: [(words: [String], protocols: Set<TransportProtocol>, numeric: Bool, bare: Bool)] = []
        for (name, words) in vocabulary.protocols {
            let set: Set<TransportProtocol> =
                switch name {
                case "tcp": [.tcp]
                case "udp": [.udp]
                default: [.tcp, .udp]
                }
            for word in words {
                let tokens = phrase(word)
                guard !tokens.isEmpty else { continue }
                let numeric = tokens.allSatisfy { $0.allSatisfy(\.isNumber) }
                // A word of "both" that names no protocol ("both", "beide") counts only in a protocol field.
                let bare = name == "both" && !tokens.contains { $0 == "tcp" || $0 == "udp" }
                protocols.append((tokens, set, numeric, bare))
            }
        }
        protocolPhrases = protocols.sorted { $0.words.count > $1.words.count }
        interfacePhrases = vocabulary.interfaces.flatMap { side, words in words.map { (phrase($0), side) } }
            .filter { !$0.0.isEmpty }.sorted { $0.0.count > $1.0.count }
        failurePhrases = vocabulary.failures.map(phrase).filter { !$0.isEmpty }
        outbound = Set(vocabulary.outbound.map { $0.lowercased() })
        proseOutbound = Set(vocabulary.outbound.map { $0.lowercased() }.filter { $0.count >= 5 })
        proseInbound = Set(vocabulary.inbound.map { $0.lowercased() }.filter { $0.count >= 5 })
        foreign = Set(vocabulary.foreign.map { $0.lowercased() })
        interfaceWords = Set(
            vocabulary.keys[.interface, default: []].filter { phrase($0).count == 1 }.map { $0.lowercased() })
        units = Set(vocabulary.units.map { $0.lowercased() })
        counters = Set(vocabulary.counters.map { $0.lowercased() })
        blocking = Set(vocabulary.blocking.map { $0.lowercased() })
    }

    // MARK: - Tokens

    struct Token: Equatable {
        enum Kind { case number, word, mark, other }
        var kind: Kind
        /// Lower-cased for words; the digits for numbers; the character for marks.
        var text: String
        /// Offsets in the text's Unicode scalars.
        var start: Int
        var end: Int
        var value: Int { Int(text) ?? -1 }
    }

    /// Splits text into words, numbers, marks and "other" runs (versions, times, addresses, hex,
    /// numbers glued to letters), so that `3.0.6362.0`, `12:03:44`, `192.0.2.10` and `KB974571` are
    /// never numbers.
    static func tokenize(_ text: String) -> [Token] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        func isLetter(_ scalar: Unicode.Scalar) -> Bool {
            // ASCII first: no Unicode property look-up for the common case.
            if scalar.value < 0x80 {
                return (scalar.value | 0x20) >= 0x61 && (scalar.value | 0x20) <= 0x7A
            }
            return scalar.properties.isAlphabetic
        }
        func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= 0x30 && scalar.value <= 0x39 }
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar.properties.isWhitespace {
                index += 1
                continue
            }
            let start = index
            if isDigit(scalar) || isLetter(scalar) || scalar == "_" {
                var sawLetter = false
                var sawDigit = false
                var glued = false
                while index < scalars.count {
                    let current = scalars[index]
                    if isDigit(current) {
                        sawDigit = true
                    } else if isLetter(current) || current == "_" {
                        sawLetter = true
                    } else if current == "." || current == ":" || current == ",", index + 1 < scalars.count,
                        isDigit(scalars[index + 1]), sawDigit, !sawLetter, current != ","
                    {
                        // 3.0.6362.0, 12:03:44, 192.0.2.10 (a comma is a list separator, never glue).
                        glued = true
                    } else {
                        break
                    }
                    index += 1
                }
                let piece = String(String.UnicodeScalarView(scalars[start..<index]))
                let kind: Token.Kind =
                    glued || (sawDigit && sawLetter && isDigit(scalars[start]))
                    ? .other
                    : sawLetter ? .word : .number
                // "0x80070005", "5061tcp", "R2": words with digits stay words; digits then letters are other.
                tokens.append(
                    Token(kind: kind, text: kind == .word ? piece.lowercased() : piece, start: start, end: index))
                continue
            }
            index += 1
            // "-1": a minus sign glued to a number after a space is a negative number, not a range mark.
            if scalar == "-", index < scalars.count, isDigit(scalars[index]),
                start == 0 || scalars[start - 1].properties.isWhitespace
            {
                while index < scalars.count, isDigit(scalars[index]) { index += 1 }
                tokens.append(
                    Token(
                        kind: .other, text: String(String.UnicodeScalarView(scalars[start..<index])), start: start,
                        end: index))
                continue
            }
            tokens.append(Token(kind: .mark, text: String(Character(scalar)), start: start, end: index))
        }
        return tokens
    }

    // MARK: - Reading an entry

    /// Reads an entry from its text and, when the record has them, its named fields (table cells,
    /// XML attributes and elements).
    public func read(text: String, fields: [RecordField] = []) -> EntryFields {
        var entry = EntryFields()
        var keyedPorts: [EntryFields.Mention] = []
        var keyedProtocols: [Set<TransportProtocol>] = []
        func take(_ field: FieldVocabulary.Field, _ value: String) {
            let value = Self.unquoted(value)
            guard !value.isEmpty else { return }
            entry.hasNamedFields = true
            switch field {
            case .port:
                // `[5064, 5072]`, `["41910-45353", 7304]`: brackets and quotes around a list carry nothing.
                let tokens = Self.tokenize(String(value.map { "[]{}\"'".contains($0) ? " " : $0 }))
                if let (items, next) = portList(tokens, 0) {
                    var mention = EntryFields.Mention(items: items, protocols: [])
                    if let (protocols, _) = protocolSuffix(tokens, next) { mention.protocols = protocols }
                    keyedPorts.append(mention)
                } else {
                    // A cell written as prose: "port 443 (TCP), port 3478 (UDP), ports 50000-59999 (TCP)".
                    var ignored = false
                    let mentions = proseMentions(tokens, semicolonAfterPort: &ignored)
                    keyedPorts += mentions
                    if mentions.isEmpty || unreadablePort(tokens, Array(value.unicodeScalars)) != nil {
                        entry.unreadable.append("port \(value)")
                    }
                }
            case .protocol:
                // "NET_FW_IP_PROTOCOL_TCP", "IPPROTO_UDP": a constant's last word names the protocol.
                let tokens = Self.tokenize(value.replacingOccurrences(of: "_", with: " "))
                if let (protocols, _) = protocolSet(tokens, 0, keyed: true) {
                    keyedProtocols.append(protocols)
                } else if let last = tokens.last, last.kind == .word,
                    let (protocols, _) = protocolSet(tokens, tokens.count - 1, keyed: false)
                {
                    keyedProtocols.append(protocols)
                } else {
                    entry.unreadable.append("protocol \(value)")
                }
            case .program:
                if entry.program == nil { entry.program = value }
            case .name:
                if entry.name == nil { entry.name = value }
            case .interface:
                if entry.interface == nil { entry.interface = side(in: Self.tokenize(value)) }
            case .direction:
                if let first = Self.tokenize(value).first, outbound.contains(first.text) { entry.opensNothing = true }
            case .action:
                if let first = Self.tokenize(value).first, blocking.contains(first.text) { entry.opensNothing = true }
            }
        }
        // Named fields are read once: the record's text then holds only what no field name explains
        // (prose in a "Details" column, say), never the fields again.
        var unnamed: [String] = []
        for field in fields {
            if let known = vocabulary.field(forKey: field.name) {
                take(known, field.value)
            } else if let known = alternative(field) {
                take(known, field.value)
            } else {
                unnamed.append(field.value)
            }
        }
        let prose = fields.isEmpty ? text : unnamed.joined(separator: " ; ")
        let tokens = Self.tokenize(prose)
        let scalars = Array(prose.unicodeScalars)
        for (field, value) in fields.isEmpty ? keyedValues(tokens, scalars) : [] {
            // "Added firewall exception: program C:\…\RTCSrv.exe, port 5061/TCP": a name key in prose
            // whose value holds a program or a port is prose, not a name.
            if field == .name {
                let valueTokens = Self.tokenize(value)
                var ignored = false
                if value.lowercased().contains(".exe")
                    || !proseMentions(valueTokens, semicolonAfterPort: &ignored).isEmpty
                {
                    continue
                }
            }
            take(field, value)
        }

        if !keyedPorts.isEmpty {
            // Named ports: pair each with the protocol field of the same position, or the only one.
            for (index, var mention) in keyedPorts.enumerated() where mention.protocols.isEmpty {
                if keyedProtocols.count == keyedPorts.count {
                    mention.protocols = keyedProtocols[index]
                } else if Set(keyedProtocols).count == 1, let only = keyedProtocols.first {
                    mention.protocols = only
                }
                keyedPorts[index] = mention
            }
            entry.mentions = keyedPorts
        } else if entry.unreadable.allSatisfy({ !$0.hasPrefix("port ") }) {
            // Prose. A protocol field applies to prose ports that state none.
            var mentions = proseMentions(tokens, semicolonAfterPort: &entry.semicolonAfterPort)
            if mentions.isEmpty, let value = unreadablePort(tokens, scalars) {
                entry.unreadable.append("port \(value)")
            }
            if Set(keyedProtocols).count == 1, let only = keyedProtocols.first {
                for index in mentions.indices where mentions[index].protocols.isEmpty {
                    mentions[index].protocols = only
                }
            }
            entry.mentions = mentions
        }
        if entry.interface == nil { entry.interface = side(in: tokens) }
        entry.failed = failurePhrases.contains { phrase in Self.find(phrase, in: tokens) != nil }
        // Prose that says the traffic is outbound ("Allowing outbound TCP 5060", "trafic sortant") opens
        // nothing inbound, unless it says inbound too.
        if !entry.opensNothing, tokens.contains(where: { $0.kind == .word && proseOutbound.contains($0.text) }),
            !tokens.contains(where: { $0.kind == .word && proseInbound.contains($0.text) })
        {
            entry.opensNothing = true
        }
        return entry
    }

    /// A column named for two fields ("Program / Port", "Port or program"): the one its value fits —
    /// a port list for the port field, an executable for the program field.
    private func alternative(_ field: RecordField) -> FieldVocabulary.Field? {
        let names = field.name.split(whereSeparator: { $0 == "/" || $0 == "|" }).map(String.init)
        guard names.count >= 2 else { return nil }
        let candidates = names.compactMap { vocabulary.field(forKey: $0) }
        if candidates.contains(.port), portList(Self.tokenize(field.value), 0) != nil { return .port }
        if candidates.contains(.program), field.value.lowercased().contains(".exe") { return .program }
        return nil
    }

    /// `"x"`, `'x'`, `“x”` → `x`; spaces trimmed.
    static func unquoted(_ text: String) -> String {
        var value = Substring(text)
        while let first = value.first, first.isWhitespace { value = value.dropFirst() }
        while let last = value.last, last.isWhitespace { value = value.dropLast() }
        let quotes: [(Character, Character)] = [("\"", "\""), ("'", "'"), ("“", "”"), ("„", "“"), ("«", "»")]
        for (open, close) in quotes where value.count >= 2 && value.first == open && value.last == close {
            value = value.dropFirst().dropLast()
            break
        }
        return String(value)
    }

    // MARK: - Key/value pairs in text

    /// `Port=5061`, `Port: 5061`, `Protocol = "TCP"`, `LocalPort: 5060-5061`: a key phrase, a
    /// separator (`=`, `:`), and a value up to the next key (or a `;`, `|`, line end; a `,` too for
    /// values that are not port lists).
    private func keyedValues(_ tokens: [Token], _ scalars: [Unicode.Scalar]) -> [(FieldVocabulary.Field, String)] {
        // Where each key with a separator starts, and where its value starts.
        var keys: [(field: FieldVocabulary.Field?, keyStart: Int, valueStart: Int, valueEnd: Int?)] = []
        var index = 0
        while index < tokens.count {
            guard tokens[index].kind == .word, let (field, afterKey) = keyPhrase(tokens, index) else {
                index += 1
                continue
            }
            // The separator: "=", ":", ":=", "=>", "->"; after a quoted key (`"port": 5061`), its closing quote.
            var next = afterKey
            var separated = false
            if next < tokens.count, index > 0, tokens[index - 1].kind == .mark, tokens[next].kind == .mark,
                tokens[next].text == tokens[index - 1].text, tokens[next].text == "\"" || tokens[next].text == "'"
            {
                next += 1
            }
            while next < tokens.count, tokens[next].kind == .mark, [":", "=", ">"].contains(tokens[next].text),
                next - afterKey < 2
            {
                separated = true
                next += 1
            }
            // A key must not be glued to what precedes it ("Edge-Port:" is fine; "C:\…\Port:" in a path is not).
            let previous = index > 0 ? tokens[index - 1] : nil
            let inPath = previous.map { $0.kind == .mark && ($0.text == "\\" || $0.text == "/") } ?? false
            // PowerShell parameters: "-Action Block", "-LocalPort 5061" (a dash glued to the key, a space after it).
            let isParameter =
                !separated
                && previous.map { $0.kind == .mark && $0.text == "-" && $0.end == tokens[index].start } ?? false
                && (index < 2 || tokens[index - 2].end < tokens[index - 1].start) && next < tokens.count
            // "Remote Port=1433": another host's port; the key still ends the value before it.
            let isForeign = previous.map { $0.kind == .word && foreign.contains($0.text) } ?? false
            // "protocol UDP, local ports 49152-57500": a protocol key before a protocol word, without a
            // separator, names the protocol (that word only; nothing else is read that way).
            let bareProtocol =
                !separated && !isParameter && field == .protocol && next < tokens.count && tokens[next].kind == .word
                ? protocolSet(tokens, next, keyed: true) : nil
            if separated || isParameter, !inPath, next <= tokens.count {
                let valueStart = next < tokens.count ? tokens[next].start : scalars.count
                keys.append((isForeign ? nil : field, tokens[index].start, valueStart, nil))
                index = next
            } else if let (_, after) = bareProtocol, !inPath, !isForeign {
                keys.append((field, tokens[index].start, tokens[next].start, tokens[after - 1].end))
                index = after
            } else {
                index += 1
            }
        }
        var values: [(FieldVocabulary.Field, String)] = []
        for (position, key) in keys.enumerated() {
            let limit = position + 1 < keys.count ? keys[position + 1].keyStart : scalars.count
            var end = key.valueStart
            if let valueEnd = key.valueEnd {
                end = valueEnd
            } else if end < scalars.count, let close = Self.closingQuote(scalars[end]) {
                // A quoted value runs to its closing quote.
                var search = end + 1
                while search < limit, scalars[search] != close { search += 1 }
                end = min(search + 1, limit)
            } else {
                let stops: Set<Unicode.Scalar> =
                    key.field == .port || key.field == .protocol ? [";", "|", "\n"] : [";", "|", ",", "\n"]
                while end < limit, !stops.contains(scalars[end]) { end += 1 }
            }
            var value = String(String.UnicodeScalarView(scalars[key.valueStart..<max(key.valueStart, end)]))
            // A trailing "," or "." that ends the sentence is not part of the value.
            while let last = value.last, last == "," || last == "." || last.isWhitespace { value.removeLast() }
            if let field = key.field { values.append((field, value)) }
        }
        return values
    }

    private static func closingQuote(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        switch scalar {
        case "\"": "\""
        case "'": "'"
        case "“": "”"
        case "„": "“"
        case "«": "»"
        default: nil
        }
    }

    /// The longest key phrase starting at `index` (words joined by spaces, '-' or '_').
    private func keyPhrase(_ tokens: [Token], _ index: Int) -> (FieldVocabulary.Field, Int)? {
        // Collect up to four words joined by single marks '-' or '_' (or spaces).
        var words: [(text: String, end: Int)] = []
        var position = index
        while position < tokens.count, words.count < 4 {
            guard tokens[position].kind == .word else { break }
            words.append((tokens[position].text, position + 1))
            if position + 2 < tokens.count, tokens[position + 1].kind == .mark,
                ["-", "_"].contains(tokens[position + 1].text), tokens[position + 1].start == tokens[position].end,
                tokens[position + 2].kind == .word
            {
                position += 2
            } else {
                position += 1
            }
        }
        var count = words.count
        while count > 0 {
            // Normalizing drops marks only: a text twice the longest key (and more) is no key.
            guard words[0..<count].reduce(0, { $0 + $1.text.utf8.count }) <= 2 * longestKey + 8 else {
                count -= 1
                continue
            }
            let joined = FieldVocabulary.normalizedKey(words[0..<count].map(\.text).joined())
            if let field = vocabulary.field(forKey: joined) { return (field, words[count - 1].end) }
            count -= 1
        }
        return nil
    }

    // MARK: - Prose

    /// Port lists with a port word or a protocol attached, left to right.
    private func proseMentions(_ tokens: [Token], semicolonAfterPort: inout Bool) -> [EntryFields.Mention] {
        var mentions: [EntryFields.Mention] = []
        var index = 0
        while index < tokens.count {
            if let (mention, next) = proseMention(tokens, index) {
                mentions.append(mention)
                if next < tokens.count, tokens[next].text == ";",
                    next + 1 >= tokens.count || keyPhrase(tokens, next + 1) == nil
                {
                    semicolonAfterPort = true
                }
                index = next
            } else {
                index += 1
            }
        }
        return mentions
    }

    /// One mention starting at `index`: `[protocols] [port word] LIST [protocols]`, in any of the
    /// orders the vocabulary allows.
    private func proseMention(_ tokens: [Token], _ start: Int) -> (EntryFields.Mention, Int)? {
        // The list of "remote port 1433" is another host's, wherever the reading starts.
        if start >= 1, tokens[start].kind == .number {
            let before = tokens[start - 1]
            if before.kind == .word, foreign.contains(before.text) { return nil }
            if before.kind == .word, portWords.contains(before.text), start >= 2, tokens[start - 2].kind == .word,
                foreign.contains(tokens[start - 2].text)
            {
                return nil
            }
        }
        var index = start
        var protocols: Set<TransportProtocol> = []
        var hasPortWord = false
        var steps = 0
        while index < tokens.count, steps < 4 {
            steps += 1
            if let (found, next) = protocolSet(tokens, index, keyed: false) {
                protocols.formUnion(found)
                index = next
            } else if tokens[index].kind == .word, portWords.contains(tokens[index].text) {
                // "remote port 5061": another host's port.
                if index > 0, tokens[index - 1].kind == .word, foreign.contains(tokens[index - 1].text) { return nil }
                hasPortWord = true
                index += 1
            } else if index > start, tokens[index].kind == .mark,
                ["-", "/", ":", "=", "#"].contains(tokens[index].text)
            {
                index += 1
            } else if hasPortWord, tokens[index].kind == .word,
                ["number", "numbers", "range", "nr", "no", "from", "von"].contains(tokens[index].text)
            {
                index += 1
            } else {
                break
            }
        }
        guard index > start || tokens[start].kind == .number else { return nil }
        guard let (items, afterList) = portList(tokens, index) else { return nil }
        // A single digit in prose is a count ("TCP: 4, UDP: 1"), never a port these servers open.
        if items.contains(where: { (1..<10).contains($0.low) && $0.high < 10 }) { return nil }
        var end = afterList
        var suffix: Set<TransportProtocol> = []
        if let (found, next) = protocolSuffix(tokens, afterList) {
            // A protocol followed at once by a port list or a port word is the next mention's prefix.
            let leadsNext =
                next < tokens.count
                && (tokens[next].kind == .number
                    || (tokens[next].kind == .word && portWords.contains(tokens[next].text)))
            if !leadsNext {
                suffix = found
                end = next
            }
        }
        guard hasPortWord || !protocols.isEmpty || !suffix.isEmpty else { return nil }
        return (EntryFields.Mention(items: items, protocols: protocols.union(suffix)), end)
    }

    /// A port word followed by something that is no number ("port <dynamic>", "port -1", "Anschluss ?"):
    /// the value as written, up to the next space.
    private func unreadablePort(_ tokens: [Token], _ scalars: [Unicode.Scalar]) -> String? {
        // After a port word, or a protocol ("TCP $(DataMcuCompatPort)", "UDP <auto>").
        for index in tokens.indices where tokens[index].kind == .word {
            let isPortWord = portWords.contains(tokens[index].text)
            guard isPortWord || protocolSet(tokens, index, keyed: false) != nil else { continue }
            var next = index + 1
            while next < tokens.count, tokens[next].kind == .mark, [":", "=", "#"].contains(tokens[next].text) {
                next += 1
            }
            guard next < tokens.count else { continue }
            let token = tokens[next]
            // (After a protocol a hyphen compounds: "TCP-based", "UDP-Anschlüsse".)
            let unreadable =
                token.kind == .other
                || (token.kind == .mark && ["<", "?", "*", "[", "{", "%", "$"].contains(token.text))
                || (isPortWord && token.kind == .mark && token.text == "-")
            guard unreadable else { continue }
            var end = token.start
            while end < scalars.count, !scalars[end].properties.isWhitespace, scalars[end] != ",", scalars[end] != ";" {
                end += 1
            }
            return String(String.UnicodeScalarView(scalars[token.start..<end]))
        }
        return nil
    }

    /// A protocol after a port list: `/tcp`, `(TCP)`, ` TCP`, `over UDP`, `using TCP and UDP`.
    private func protocolSuffix(_ tokens: [Token], _ start: Int) -> (Set<TransportProtocol>, Int)? {
        var index = start
        var opened = false
        if index < tokens.count, tokens[index].kind == .mark, ["/", "("].contains(tokens[index].text) {
            opened = tokens[index].text == "("
            index += 1
        }
        // ", protocol TCP": a comma may stand before a joiner (never before a bare protocol: "TCP 5061, UDP 3478").
        if !opened, index + 1 < tokens.count, tokens[index].text == ",", tokens[index + 1].kind == .word,
            joiners.contains(tokens[index + 1].text)
        {
            index += 1
        }
        var joined = 0
        while index < tokens.count, joined < 2, tokens[index].kind == .word, joiners.contains(tokens[index].text) {
            index += 1
            joined += 1
        }
        guard let (protocols, next) = protocolSet(tokens, index, keyed: false) else { return nil }
        var end = next
        if opened, end < tokens.count, tokens[end].text == ")" { end += 1 }
        return (protocols, end)
    }

    /// `TCP`, `UDP`, `TCP and UDP`, `TCP/UDP`, `both TCP and UDP`; in a protocol field also `6`, `17`, `both`.
    private func protocolSet(_ tokens: [Token], _ start: Int, keyed: Bool) -> (Set<TransportProtocol>, Int)? {
        var index = start
        var found: Set<TransportProtocol> = []
        while index < tokens.count {
            var matched: (Set<TransportProtocol>, Int)?
            for phrase in protocolPhrases where keyed || (!phrase.numeric && !phrase.bare) {
                if Self.matches(phrase.words, tokens, index) {
                    matched = (phrase.protocols, index + phrase.words.count)
                    break
                }
            }
            if matched == nil, !keyed, found.isEmpty, tokens[index].kind == .word {
                // "both TCP and UDP": a bare "both" before a protocol adds nothing.
                if protocolPhrases.contains(where: { $0.bare && $0.words == [tokens[index].text] }),
                    index + 1 < tokens.count, protocolSet(tokens, index + 1, keyed: false) != nil
                {
                    index += 1
                    continue
                }
            }
            guard let (protocols, next) = matched else { break }
            found.formUnion(protocols)
            index = next
            // "TCP, UDP", "TCP or UDP", "TCP/UDP", "TCP + UDP": another protocol may follow a separator.
            if index + 1 < tokens.count,
                tokens[index].text == "/" || tokens[index].text == "+" || isListWord(tokens, index) != nil,
                let separator = tokens[index].text == "/" || tokens[index].text == "+" ? 1 : isListWord(tokens, index),
                protocolPhrases.contains(where: {
                    (keyed || !$0.numeric) && !$0.bare && Self.matches($0.words, tokens, index + separator)
                })
            {
                index += separator
                continue
            }
            break
        }
        return found.isEmpty ? nil : (found, index)
    }

    /// `5061`, `5060-5061`, `50000 to 59999`, `5060, 5061 and 5062`: items as written (unchecked).
    private func portList(_ tokens: [Token], _ start: Int) -> ([(low: Int, high: Int)], Int)? {
        var items: [(low: Int, high: Int)] = []
        var index = start
        while index < tokens.count, tokens[index].kind == .number, tokens[index].text.count <= 5 {
            let low = tokens[index].value
            var high = low
            index += 1
            if let width = rangeWord(tokens, index), index + width < tokens.count,
                tokens[index + width].kind == .number,
                tokens[index + width].text.count <= 5
            {
                high = tokens[index + width].value
                index += width + 1
            }
            // "12 ms", "640 KB", "2 of 5": a measure or a count, not a port.
            if index < tokens.count, units.contains(tokens[index].text) { return nil }
            if index + 1 < tokens.count, counters.contains(tokens[index].text), tokens[index + 1].kind == .number {
                return nil
            }
            items.append((low, high))
            // A list separator continues the list only when another number follows it.
            if let width = isListWord(tokens, index), index + width < tokens.count,
                tokens[index + width].kind == .number
            {
                index += width
                continue
            }
            break
        }
        return items.isEmpty ? nil : (items, index)
    }

    private func rangeWord(_ tokens: [Token], _ index: Int) -> Int? {
        for phrase in rangeWords where Self.matches(phrase, tokens, index) { return phrase.count }
        return nil
    }

    /// The width of a list separator at `index` (", and" counts as one).
    private func isListWord(_ tokens: [Token], _ index: Int) -> Int? {
        for phrase in listWords where Self.matches(phrase, tokens, index) {
            // ", and 5062": a comma followed by "and".
            if let more = listWords.first(where: { Self.matches($0, tokens, index + phrase.count) }) {
                return phrase.count + more.count
            }
            return phrase.count
        }
        return nil
    }

    /// The Edge side a text names (`external`, `internal`), if it names one.
    public func side(in text: String) -> EdgeInterface? { side(in: Self.tokenize(text)) }

    /// The side a text names: one followed by an interface word ("on the external interface") wins
    /// over a bare one ("for internal servers"), else the first.
    private func side(in tokens: [Token]) -> EdgeInterface? {
        var first: EdgeInterface?
        var index = 0
        while index < tokens.count {
            for phrase in interfacePhrases where Self.matches(phrase.words, tokens, index) {
                let next = index + phrase.words.count
                if next < tokens.count, interfaceWords.contains(tokens[next].text) { return phrase.side }
                if first == nil { first = phrase.side }
            }
            index += 1
        }
        return first
    }

    private static func matches(_ phrase: [String], _ tokens: [Token], _ index: Int) -> Bool {
        guard index >= 0, index + phrase.count <= tokens.count else { return false }
        for (offset, word) in phrase.enumerated() where tokens[index + offset].text != word { return false }
        return true
    }

    private static func find(_ phrase: [String], in tokens: [Token]) -> Int? {
        guard !phrase.isEmpty, tokens.count >= phrase.count else { return nil }
        for index in 0...(tokens.count - phrase.count) where matches(phrase, tokens, index) { return index }
        return nil
    }
}

/// A named value of a record: a table cell named by its column header, an XML attribute, or an
/// XML child element's text.
public struct RecordField: Sendable, Equatable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
