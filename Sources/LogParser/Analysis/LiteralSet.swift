/// A set of literal words searched for in bytes, ignoring case: the prefilter every line passes
/// through, so it must cost a few instructions a byte (a PCRE2 alternation of twenty-odd caseless
/// words costs ten times more).
///
/// ASCII letters compare without case. A word with non-ASCII letters (`échec`) is kept in its
/// lower-case, upper-case and capitalized spellings, which is how logs write words.
public struct LiteralSet: Sendable {
    /// The words' bytes, ASCII lower-cased.
    private let words: [[UInt8]]
    /// For each byte value, 1 + the index of its bucket in `buckets`, or 0 when no word starts with it.
    private let firstByte: [UInt16]
    /// The words (indexes into `words`) that start with one byte value, lower-cased.
    private let buckets: [[Int]]

    public init(_ words: [String]) {
        var spellings: [[UInt8]] = []
        for word in words where !word.isEmpty {
            for variant in [
                word.lowercased(), word.uppercased(), word.prefix(1).uppercased() + word.dropFirst().lowercased(),
            ] {
                let bytes = variant.utf8.map(Bytes.lower)
                if !spellings.contains(bytes) { spellings.append(bytes) }
            }
        }
        self.words = spellings
        var firstByte = [UInt16](repeating: 0, count: 256)
        var buckets: [[Int]] = []
        for (index, word) in spellings.enumerated() {
            let first = Int(word[0])
            if firstByte[first] == 0 {
                buckets.append([])
                firstByte[first] = UInt16(buckets.count)
            }
            buckets[Int(firstByte[first]) - 1].append(index)
            // An ASCII letter also starts the word in upper case.
            if first >= 0x61 && first <= 0x7A { firstByte[first - 0x20] = firstByte[first] }
        }
        self.firstByte = firstByte
        self.buckets = buckets
    }

    /// Whether any word occurs in `bytes`.
    public func firstMatch(in bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        let count = bytes.count
        return firstByte.withUnsafeBufferPointer { table in
            var index = 0
            while index < count {
                let bucket = table[Int(base[index])]
                if bucket != 0 {
                    for wordIndex in buckets[Int(bucket) - 1] {
                        let word = words[wordIndex]
                        guard word.count <= count - index else { continue }
                        var offset = 1
                        while offset < word.count, Bytes.lower(base[index + offset]) == word[offset] { offset += 1 }
                        if offset == word.count { return true }
                    }
                }
                index += 1
            }
            return false
        }
    }
}
