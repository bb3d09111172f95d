import ScanModel

/// A set of literal words searched for in bytes, ignoring case: the prefilter every line passes
/// through, so it must cost a few instructions a byte (a PCRE2 alternation of twenty-odd caseless
/// words costs ten times more).
///
/// ASCII letters compare without case. A word with non-ASCII letters (`échec`) is kept in its
/// lower-case, upper-case and capitalized spellings, which is how logs write words.
public struct LiteralSet: Sendable {
    /// Every spelling's bytes (ASCII lower-cased), one after another.
    private let bytes: [UInt8]
    /// Per spelling: where it starts in `bytes`, and its length; spellings sorted by first byte.
    private let starts: [Int32]
    private let lengths: [Int32]
    /// Per byte value: the first spelling that starts with it (lower-cased), and how many do.
    private let bucketFirst: [UInt16]
    private let bucketCount: [UInt16]
    /// A bit per pair of bytes, as they appear (every case of an ASCII letter set), that starts some
    /// spelling: most positions are ruled out by one table look-up of the raw bytes, without
    /// lower-casing them. Words of one byte make every position a candidate.
    private let pairs: [UInt64]

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
        spellings.sort { ($0[0], $0.count) < ($1[0], $1.count) }
        var bytes: [UInt8] = []
        var starts: [Int32] = []
        var lengths: [Int32] = []
        var bucketFirst = [UInt16](repeating: 0, count: 256)
        var bucketCount = [UInt16](repeating: 0, count: 256)
        for (index, spelling) in spellings.enumerated() {
            let first = Int(spelling[0])
            if bucketCount[first] == 0 { bucketFirst[first] = UInt16(index) }
            bucketCount[first] += 1
            starts.append(Int32(bytes.count))
            lengths.append(Int32(spelling.count))
            bytes += spelling
        }
        // An ASCII letter also starts its words in upper case.
        for letter in 0x61...0x7A where bucketCount[letter] > 0 {
            bucketFirst[letter - 0x20] = bucketFirst[letter]
            bucketCount[letter - 0x20] = bucketCount[letter]
        }
        var pairs = [UInt64](repeating: 0, count: 1024)
        for spelling in spellings {
            if spelling.count == 1 {
                pairs = [UInt64](repeating: ~0, count: 1024)
                break
            }
            func cases(_ byte: UInt8) -> [UInt8] {
                (0x61...0x7A).contains(byte) ? [byte, byte - 0x20] : [byte]
            }
            for first in cases(spelling[0]) {
                for second in cases(spelling[1]) {
                    let pair = Int(first) << 8 | Int(second)
                    pairs[pair >> 6] |= 1 << UInt64(pair & 63)
                }
            }
        }
        self.pairs = pairs
        self.bytes = bytes
        self.starts = starts
        self.lengths = lengths
        self.bucketFirst = bucketFirst
        self.bucketCount = bucketCount
    }

    /// Whether any word occurs in `text`.
    public func firstMatch(in text: UnsafeRawBufferPointer) -> Bool {
        guard let base = text.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        let count = text.count
        return bytes.withUnsafeBufferPointer { words in
            starts.withUnsafeBufferPointer { starts in
                lengths.withUnsafeBufferPointer { lengths in
                    bucketFirst.withUnsafeBufferPointer { bucketFirst in
                        bucketCount.withUnsafeBufferPointer { bucketCount in
                            pairs.withUnsafeBufferPointer { pairs in
                                var index = 0
                                var next = count > 0 ? Int(base[0]) : 0
                                while index + 1 < count {
                                    let pair = next << 8 | Int(base[index + 1])
                                    next = pair & 0xFF
                                    guard pairs[pair >> 6] & (1 << UInt64(pair & 63)) != 0 else {
                                        index += 1
                                        continue
                                    }
                                    let byte = Int(base[index])
                                    let candidates = Int(bucketCount[byte])
                                    if candidates != 0 {
                                        let first = Int(bucketFirst[byte])
                                        for spelling in first..<(first + candidates) {
                                            let length = Int(lengths[spelling])
                                            guard length <= count - index else { break }  // sorted by length
                                            let start = Int(starts[spelling])
                                            var offset = 1
                                            while offset < length,
                                                Bytes.lower(base[index + offset]) == words[start + offset]
                                            {
                                                offset += 1
                                            }
                                            if offset == length { return true }
                                        }
                                    }
                                    index += 1
                                }
                                return false
                            }
                        }
                    }
                }
            }
        }
    }
}
