/// Masks the variable parts of a message (GUIDs, hex codes, numbers, paths, times, quoted
/// names, host names) so that repeats of one failure group together, as Drain does.
public enum Template {
    /// The message with variable parts replaced by `<GUID>`, `<HEX>`, `<PATH>`, `<N>`, `<Q>`, `<HOST>`.
    public static func mask(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.count)
        var words = text.split(separator: " ", omittingEmptySubsequences: true).makeIterator()
        var first = true
        while let word = words.next() {
            if !first { output.append(" ") }
            first = false
            output += maskWord(word)
        }
        return output
    }

    private static func maskWord(_ word: Substring) -> String {
        let trimmed = word.trimmingCharacters(in: .init(charactersIn: ".,;:()[]{}<>'\""))
        guard !trimmed.isEmpty else { return String(word) }
        let lowered = trimmed.lowercased()
        var replacement: String?
        if lowered.count == 36 || lowered.count == 38, lowered.filter({ $0 == "-" }).count == 4,
            lowered.allSatisfy({ $0.isHexDigit || $0 == "-" || $0 == "{" || $0 == "}" })
        {
            replacement = "<GUID>"
        } else if lowered.hasPrefix("0x"), lowered.dropFirst(2).allSatisfy(\.isHexDigit), lowered.count > 2 {
            replacement = "<HEX>"
        } else if trimmed.contains("\\") || (trimmed.contains("/") && trimmed.count > 12) {
            replacement = "<PATH>"
        } else if trimmed.contains(where: \.isNumber), trimmed.allSatisfy({ $0.isNumber || ":.-/".contains($0) }) {
            replacement = "<N>"
        } else if trimmed.filter({ $0 == "." }).count >= 2,
            trimmed.allSatisfy({ $0.isLetter || $0.isNumber || ".-".contains($0) })
        {
            replacement = "<HOST>"
        } else if (word.hasPrefix("'") || word.hasPrefix("\"")) && trimmed.count > 0 {
            replacement = "<Q>"
        }
        return replacement ?? String(word)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> Substring {
        var slice = self
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return slice
    }
}

extension Set where Element == Character {
    fileprivate init(charactersIn string: String) { self.init(string) }
}
