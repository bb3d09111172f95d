import ScanModel

/// The words of firewall-exception entries (fields.yaml `vocabulary`): what a log calls an
/// entry's fields and how it writes their values. The field reader holds the mechanisms; this
/// holds every word, so that a new language or wording is a data change.
public struct FieldVocabulary: Sendable, Equatable {
    /// An entry's fields.
    public enum Field: String, Sendable, CaseIterable, Codable {
        case port, `protocol`, program, name, interface, direction, action
    }

    /// The names each field goes by (keys, table headers, XML attribute and element names).
    public var keys: [Field: [String]] = [:] {
        didSet { keyIndex = Self.index(keys) }
    }
    /// Normalized key → field (looked up per word of an entry: built once, not per lookup).
    public private(set) var keyIndex: [String: Field] = [:]
    /// Words and marks between the ends of a range ("-", "to", "bis").
    public var ranges: [String] = []
    /// Words and marks between the items of a list (",", "and", "und").
    public var lists: [String] = []
    /// Words that make a number a port in prose ("port", "Anschluss").
    public var portWords: [String] = []
    /// Protocol values: `tcp`, `udp` and `both`, each with the words that mean it.
    public var protocols: [String: [String]] = [:]
    /// Words between a port list and its protocol ("over", "using").
    public var joiners: [String] = []
    /// Edge sides: `external` and `internal`, each with its words.
    public var interfaces: [EdgeInterface: [String]] = [:]
    /// Direction values that make an entry outbound.
    public var outbound: [String] = []
    /// Action values that make an entry a block.
    public var blocking: [String] = []
    /// Substrings of a section title that make it a firewall section.
    public var sections: [String] = []
    /// Words that make an entry a failure report rather than an opened port.
    public var failures: [String] = []
    /// Words that, just before a section word, keep it from opening a section ("not firewall").
    public var negations: [String] = []
    /// Direction values that make an entry inbound (they win over an outbound word in prose).
    public var inbound: [String] = []
    /// Class names that make a text-only element a heading of the siblings after it.
    public var headingClasses: [String] = []
    /// Labels that, starting an element's text before a colon, make it a heading ("Task:", "Tarea:").
    public var headingLabels: [String] = []
    /// Attribute names that hold the value of the field their element names (`<Port number="5061"/>`).
    public var valueKeys: [String] = []
    /// Attribute names of a range's ends (`from`, `to`).
    public var rangeStarts: [String] = []
    public var rangeEnds: [String] = []
    /// Words that make the key or port word after them someone else's ("remote").
    public var foreign: [String] = []
    /// Words after a number that make it no port ("ms", "KB"), and counters between two numbers ("2 of 5").
    public var units: [String] = []
    public var counters: [String] = []
    /// Words of exceptions and rules; with a section word they open a plain-text section.
    public var entryWords: [String] = []
    /// Keys that state the computer a log ran on ("Computer: FE01", "Machine : DIR01", "ComputerName = FE01").
    public var computerKeys: [String] = []
    /// Lines that begin a plain-text log of their own ("Windows PowerShell transcript start"), and
    /// lines that end one ("Windows PowerShell transcript end"): where a stream's plain-text logs part.
    public var logStarts: [String] = []
    public var logEnds: [String] = []

    public init() {}

    /// A key as compared: lower-cased letters and digits only ("Local Port", "local_port",
    /// "LocalPort" and "Local port(s)" → "localport", "localports").
    public static func normalizedKey(_ text: String) -> String {
        // ASCII (almost every key): bytes, no Unicode property look-ups.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count)
            for byte in text.utf8 {
                if byte >= 0x41 && byte <= 0x5A {
                    bytes.append(byte | 0x20)
                } else if (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) {
                    bytes.append(byte)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars
        where scalar.properties.isAlphabetic || (scalar.value >= 0x30 && scalar.value <= 0x39) {
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// The field a key, header or element name stands for.
    public func field(forKey text: String) -> Field? {
        keyIndex[Self.normalizedKey(text)]
    }

    /// The index of keys; where two fields share a key, the first in `Field.allCases` order wins.
    private static func index(_ keys: [Field: [String]]) -> [String: Field] {
        var index: [String: Field] = [:]
        for field in Field.allCases.reversed() {
            for key in keys[field, default: []] { index[normalizedKey(key)] = field }
        }
        index[""] = nil
        return index
    }

    /// Adds another file's words to these (lists are merged; order kept, duplicates dropped).
    mutating func merge(_ other: FieldVocabulary) {
        func union(_ list: inout [String], _ more: [String]) {
            for word in more where !list.contains(where: { $0.lowercased() == word.lowercased() }) { list.append(word) }
        }
        for (field, words) in other.keys { union(&keys[field, default: []], words) }
        union(&ranges, other.ranges)
        union(&lists, other.lists)
        union(&portWords, other.portWords)
        for (name, words) in other.protocols { union(&protocols[name, default: []], words) }
        union(&joiners, other.joiners)
        for (name, words) in other.interfaces { union(&interfaces[name, default: []], words) }
        union(&outbound, other.outbound)
        union(&blocking, other.blocking)
        union(&sections, other.sections)
        union(&failures, other.failures)
        union(&negations, other.negations)
        union(&inbound, other.inbound)
        union(&headingClasses, other.headingClasses)
        union(&headingLabels, other.headingLabels)
        union(&valueKeys, other.valueKeys)
        union(&rangeStarts, other.rangeStarts)
        union(&rangeEnds, other.rangeEnds)
        union(&foreign, other.foreign)
        union(&units, other.units)
        union(&counters, other.counters)
        union(&entryWords, other.entryWords)
        union(&computerKeys, other.computerKeys)
        union(&logStarts, other.logStarts)
        union(&logEnds, other.logEnds)
    }
}
