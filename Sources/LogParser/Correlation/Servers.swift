import Knowledge
import ScanModel

/// Reads the computer a log says it ran on: a key of the vocabulary's `computer-keys` at a word's
/// start ("Computer: FE01.contoso.com | Pool: …", "Machine : DIR01 (Microsoft Windows NT …)",
/// "Property(S): ComputerName = FE01"), then `:` or `=`, then the name — its first word, which
/// must read as a host name. Nothing else is taken for a name: a log that states none has none.
struct ComputerNames: Sendable {
    /// The keys, ASCII lower-cased, longest first (so "computer name" wins over "computer").
    private let keys: [[UInt8]]
    private let prefilter: LiteralSet

    init(_ vocabulary: FieldVocabulary) {
        keys = vocabulary.computerKeys.map { Array($0.utf8).map(Bytes.lower) }.filter { !$0.isEmpty }
            .sorted { $0.count > $1.count }
        prefilter = LiteralSet(vocabulary.computerKeys)
    }

    /// Whether a text holds a key that may name the computer (what ``name(in:)`` looks for first).
    func mayName(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        !keys.isEmpty && prefilter.firstMatch(in: UnsafeRawBufferPointer(text))
    }

    /// The computer name a text states, as written.
    func name(in text: UnsafeBufferPointer<UInt8>) -> String? {
        guard !keys.isEmpty, prefilter.firstMatch(in: UnsafeRawBufferPointer(text)) else { return nil }
        for key in keys {
            var from = 0
            while let at = Self.find(key, in: text, from: from) {
                from = at + 1
                if at > 0, Self.isNameByte(text[at - 1]) { continue }
                var index = at + key.count
                if index < text.count, Self.isNameByte(text[index]) { continue }
                guard let start = Self.valueStart(text, from: index) else { continue }
                index = start
                var end = index
                while end < text.count, Self.isNameByte(text[end]) || text[end] == UInt8(ascii: ".") { end += 1 }
                while end > index, text[end - 1] == UInt8(ascii: ".") { end -= 1 }  // "FE01." ends a sentence
                let token = UnsafeBufferPointer(rebasing: text[index..<end])
                if Self.isHostName(token) { return Bytes.string(token) }
            }
        }
        return nil
    }

    /// Where a key's value begins: after a separator — `:`, `=`, a table cell's `|`, or markup
    /// (`Computer:</td><td>FE01`, `<MachineName>FE01`) — and blanks; nil when none follows the key.
    private static func valueStart(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        var separated = false
        while index < text.count {
            switch text[index] {
            case 0x20, 0x09:
                index += 1
            case UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "|"):
                separated = true
                index += 1
            case UInt8(ascii: "\""),
                UInt8(ascii: "'") where separated:
                index += 1  // a quoted value: Machine="OCSMON01.fabrikam.local"
            case UInt8(ascii: "<"), UInt8(ascii: ">"):
                // A tag between the key and its value (or the end of the key's own tag).
                separated = true
                if text[index] == UInt8(ascii: ">") {
                    index += 1
                } else {
                    while index < text.count, text[index] != UInt8(ascii: ">") { index += 1 }
                    index += 1
                }
            default:
                return separated ? index : nil
            }
        }
        return nil
    }

    /// Whether a word reads as a computer's host name: letters, digits, hyphens and dots, labels of at
    /// most 63 characters, at least one letter, not `localhost`; and a name rather than a word — it
    /// holds a digit or a dot, or is written in capitals (`FE01`, `fe01.contoso.com`, `LYNCSE`, not
    /// "configured").
    static func isHostName(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
        guard (1...253).contains(token.count), token.contains(where: Bytes.isLetter) else { return false }
        let looksLikeName =
            token.contains(where: { Bytes.isDigit($0) || $0 == UInt8(ascii: ".") })
            || !token.contains(where: { $0 >= 0x61 && $0 <= 0x7A })
        guard looksLikeName else { return false }
        var label = 0
        for byte in token {
            if byte == UInt8(ascii: ".") {
                if label == 0 { return false }
                label = 0
            } else {
                label += 1
                if label > 63 { return false }
            }
        }
        guard let first = token.first, first != UInt8(ascii: "-") else { return false }
        return !Bytes.hasPrefix(token, "localhost", ignoringCase: true) || token.count != 9
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// The first position of a lower-cased key in a text, ASCII letters compared without case.
    private static func find(_ key: [UInt8], in text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let first = key.first, text.count >= key.count else { return nil }
        var index = start
        while index + key.count <= text.count {
            if Bytes.lower(text[index]) == first {
                var matched = true
                for offset in 1..<key.count where Bytes.lower(text[index + offset]) != key[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}
