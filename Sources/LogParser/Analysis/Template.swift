import ScanModel

/// Masks the variable parts of a message (GUIDs, hex codes, numbers, paths, times, quoted
/// names, host names) so that repeats of one failure group together, as Drain does.
public enum Template {
    /// The message with variable parts replaced by `<GUID>`, `<HEX>`, `<PATH>`, `<N>`, `<Q>`, `<HOST>`.
    public static func mask(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var word: [UInt8] = []
        for byte in text.utf8 {
            if byte == 0x20 || byte == 0x09 {
                if !word.isEmpty {
                    if !output.isEmpty { output.append(0x20) }
                    output += maskWord(word)
                    word.removeAll(keepingCapacity: true)
                }
            } else {
                word.append(byte)
            }
        }
        if !word.isEmpty {
            if !output.isEmpty { output.append(0x20) }
            output += maskWord(word)
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static let punctuation: Set<UInt8> = Set(".,;:()[]{}<>'\"".utf8)

    private static func maskWord(_ word: [UInt8]) -> [UInt8] {
        var start = 0
        var end = word.count
        while start < end, punctuation.contains(word[start]) { start += 1 }
        while end > start, punctuation.contains(word[end - 1]) { end -= 1 }
        guard start < end else { return word }
        let core = word[start..<end]
        func isHex(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
        }
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            isDigit(byte) || (Bytes.lower(byte) >= 0x61 && Bytes.lower(byte) <= 0x7A)
        }
        let dashes = core.filter { $0 == 0x2D }.count
        let replacement: StaticString?
        if core.count == 36 || core.count == 38, dashes == 4,
            core.allSatisfy({ isHex($0) || $0 == 0x2D || $0 == 0x7B || $0 == 0x7D })
        {
            replacement = "<GUID>"
        } else if core.count > 2, core[core.startIndex] == 0x30, Bytes.lower(core[core.startIndex + 1]) == 0x78,
            core.dropFirst(2).allSatisfy(isHex)
        {
            replacement = "<HEX>"
        } else if core.contains(0x5C) || (core.contains(0x2F) && core.count > 12) {
            replacement = "<PATH>"
        } else if core.contains(where: isDigit),
            core.allSatisfy({ isDigit($0) || $0 == 0x3A || $0 == 0x2E || $0 == 0x2D || $0 == 0x2F })
        {
            replacement = "<N>"
        } else if core.filter({ $0 == 0x2E }).count >= 2,
            core.allSatisfy({ isAlphanumeric($0) || $0 == 0x2E || $0 == 0x2D })
        {
            replacement = "<HOST>"
        } else if word.first == 0x27 || word.first == 0x22 {
            replacement = "<Q>"
        } else {
            replacement = nil
        }
        guard let replacement else { return word }
        return Array(word[0..<start])
            + Array(UnsafeBufferPointer(start: replacement.utf8Start, count: replacement.utf8CodeUnitCount))
            + Array(word[end...])
    }
}
