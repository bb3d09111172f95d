import Knowledge
import ScanModel

/// The field names of the knowledge's vocabulary as parsers look them up: shared by reference (a
/// parser is copied per line; the vocabulary's lists are not), with a literal prefilter that rules
/// out most tags before their attributes are read.
public final class FieldNames: Sendable {
    public let vocabulary: FieldVocabulary
    /// The keys of an entry's port, protocol and program fields, spaces removed: a tag that holds
    /// none of them names no such field.
    private let entryKeys: LiteralSet
    /// Section words and entry words ("firewall", "exceptions"): a short text-only element holding
    /// both heads the siblings after it ("<div>Applying Windows Firewall rules</div><table>…").
    private let sectionWords: LiteralSet
    private let entryWords: LiteralSet

    /// The keys of the interface field, spaces removed.
    private let sideKeys: LiteralSet

    public init(_ vocabulary: FieldVocabulary) {
        self.vocabulary = vocabulary
        var words: [String] = []
        for field: FieldVocabulary.Field in [.port, .protocol, .program] {
            for key in vocabulary.keys[field, default: []] { words.append(FieldVocabulary.normalizedKey(key)) }
        }
        entryKeys = LiteralSet(words.filter { !$0.isEmpty })
        sideKeys = LiteralSet(
            vocabulary.keys[.interface, default: []].map(FieldVocabulary.normalizedKey).filter { !$0.isEmpty })
        sectionWords = LiteralSet(vocabulary.sections)
        entryWords = LiteralSet(vocabulary.entryWords)
        headingClasses = vocabulary.headingClasses.map { Array($0.lowercased().utf8) }
        headingLabels = Set(vocabulary.headingLabels.map { Array($0.lowercased().utf8) })
        valueKeys = Set(vocabulary.valueKeys.map(FieldVocabulary.normalizedKey))
        rangeStarts = Set(vocabulary.rangeStarts.map(FieldVocabulary.normalizedKey))
        rangeEnds = Set(vocabulary.rangeEnds.map(FieldVocabulary.normalizedKey))
        logStarts = LiteralSet(vocabulary.logStarts)
        logEnds = LiteralSet(vocabulary.logEnds)
    }

    /// Lines that begin and end a plain-text log (a PowerShell transcript's header and footer).
    private let logStarts: LiteralSet
    private let logEnds: LiteralSet

    /// Whether a line begins a plain-text log of its own: a short line that starts with a word (a
    /// transcript's header line is one short sentence); other lines are not searched (this runs on
    /// every line of every log).
    func startsLog(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let trimmed = Bytes.trimmed(line)
        guard trimmed.count <= 64, let first = trimmed.first, Bytes.isLetter(first) || first >= 0x80 else {
            return false
        }
        return logStarts.firstMatch(in: UnsafeRawBufferPointer(trimmed))
    }

    /// Whether a line ends a plain-text log.
    func endsLog(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.count <= 200 && logEnds.firstMatch(in: UnsafeRawBufferPointer(line))
    }

    /// Heading classes and labels, lower-cased, as bytes.
    let headingClasses: [[UInt8]]
    private let headingLabels: Set<[UInt8]>
    private let valueKeys: Set<String>
    private let rangeStarts: Set<String>
    private let rangeEnds: Set<String>

    /// The fields that make a group of named values an exception entry.
    static let entryFields: Set<FieldVocabulary.Field> = [.port, .protocol, .program]

    /// Whether a name stands for an entry's port, protocol or program.
    func namesEntryField(_ name: String) -> Bool { field(forKey: name).map(Self.entryFields.contains) ?? false }

    /// The field a name stands for.
    public func field(forKey text: String) -> FieldVocabulary.Field? { vocabulary.field(forKey: text) }

    /// Whether a short text speaks of the firewall and of its exceptions or rules.
    func namesFirewallSection(_ bytes: [UInt8]) -> Bool {
        // A heading states no number: "Firewall exception added: TCP 5061" is an entry, not a heading.
        guard bytes.count <= 120, !bytes.contains(where: Bytes.isDigit) else { return false }
        return bytes.withUnsafeBytes { sectionWords.firstMatch(in: $0) && entryWords.firstMatch(in: $0) }
    }

    /// Whether a text starts with a heading label and a colon ("Task: …", "Tarea: …", "Tâche : …").
    func startsWithHeadingLabel(_ bytes: [UInt8]) -> Bool {
        guard let colon = bytes.prefix(32).firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
        var label = Array(bytes[..<colon])
        // Spaces before the colon ("Tâche :"), also no-break ones (C2 A0).
        while let last = label.last {
            if last == 0x20 {
                label.removeLast()
            } else if last == 0xA0, label.count >= 2, label[label.count - 2] == 0xC2 {
                label.removeLast(2)
            } else {
                break
            }
        }
        return headingLabels.contains(String(decoding: label, as: UTF8.self).lowercased().utf8.map { $0 })
    }

    /// An element's attributes as fields: an attribute that holds the value of the field its element
    /// names becomes that field (`<Port number="5061"/>` → Port=5061), and a range's ends one range
    /// (`<PortRange from="50000" to="59999"/>` → PortRange=50000-59999).
    func fields(ofElement element: String, attributes: [RecordField]) -> [RecordField] {
        guard field(forKey: element) != nil else { return attributes }
        var fields: [RecordField] = []
        var from: String?
        var to: String?
        for attribute in attributes {
            let key = FieldVocabulary.normalizedKey(attribute.name)
            if valueKeys.contains(key) {
                fields.append(RecordField(name: element, value: attribute.value))
            } else if rangeStarts.contains(key) {
                from = attribute.value
            } else if rangeEnds.contains(key) {
                to = attribute.value
            } else {
                fields.append(attribute)
            }
        }
        if let from, let to { fields.append(RecordField(name: element, value: "\(from)-\(to)")) }
        return fields
    }

    /// Whether the bytes may hold the key of the interface field.
    func mayNameASide(_ bytes: UnsafeRawBufferPointer) -> Bool { sideKeys.firstMatch(in: bytes) }

    /// Whether the bytes may hold the key of a port, protocol or program field.
    func mayNameAnEntryField(_ bytes: UnsafeRawBufferPointer) -> Bool { entryKeys.firstMatch(in: bytes) }
}
