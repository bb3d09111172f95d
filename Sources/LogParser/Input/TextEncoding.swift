import ScanModel

/// The text encodings ocslog reads; everything is transcoded to UTF-8 as it streams in.
public enum TextEncoding: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case utf8 = "utf-8"
    case utf16LittleEndian = "utf-16le"
    case utf16BigEndian = "utf-16be"
    case windows1252 = "windows-1252"

    public var description: String { rawValue }

    /// Parses a user's name for an encoding (`utf8`, `UTF-16LE`, `cp1252`, …).
    public init?(userName: String) {
        let key = userName.lowercased().filter { $0.isLetter || $0.isNumber }
        switch key {
        case "utf8": self = .utf8
        case "utf16le", "utf16", "unicode": self = .utf16LittleEndian
        case "utf16be": self = .utf16BigEndian
        case "windows1252", "cp1252", "latin1", "ansi", "iso88591": self = .windows1252
        default: return nil
        }
    }
}

/// What the first bytes of an input say about its encoding.
public struct EncodingDetection: Sendable, Equatable {
    /// The encoding to read the input with.
    public let encoding: TextEncoding
    /// The length of the byte-order mark to skip (0 when there is none).
    public let byteOrderMarkLength: Int
    /// How the decision was made, for `--explain` and the summary.
    public let evidence: Evidence

    public enum Evidence: String, Sendable {
        case byteOrderMark = "byte-order mark"
        case nulPattern = "NUL-byte pattern"
        case validUTF8 = "valid UTF-8"
        case invalidUTF8 = "not valid UTF-8"
        case forced = "given by the user"
    }

    /// Decides the encoding from an input's first bytes.
    ///
    /// Order: a byte-order mark; the NUL pattern of ASCII text in UTF-16 (one byte of each pair is
    /// zero); UTF-8 when the bytes are valid UTF-8; Windows-1252 otherwise. `isComplete` says that
    /// `prefix` is the whole input, so a multi-byte sequence cut at its end is invalid, not pending.
    public static func detect(_ whole: UnsafeRawBufferPointer, isComplete: Bool) -> EncodingDetection {
        // Only the first log counts: a UTF-16 log concatenated after it starts at a line with a BOM.
        var prefix = whole
        var complete = isComplete
        if whole.count > 3 {
            for index in 0..<(whole.count - 2) where whole[index] == 0x0A {
                let first = whole[index + 1]
                let second = whole[index + 2]
                if (first == 0xFF && second == 0xFE) || (first == 0xFE && second == 0xFF) {
                    prefix = UnsafeRawBufferPointer(rebasing: whole[0...index])
                    complete = true
                    break
                }
            }
        }
        let count = prefix.count
        if count >= 3, prefix[0] == 0xEF, prefix[1] == 0xBB, prefix[2] == 0xBF {
            return EncodingDetection(encoding: .utf8, byteOrderMarkLength: 3, evidence: .byteOrderMark)
        }
        if count >= 2, prefix[0] == 0xFF, prefix[1] == 0xFE {
            return EncodingDetection(encoding: .utf16LittleEndian, byteOrderMarkLength: 2, evidence: .byteOrderMark)
        }
        if count >= 2, prefix[0] == 0xFE, prefix[1] == 0xFF {
            return EncodingDetection(encoding: .utf16BigEndian, byteOrderMarkLength: 2, evidence: .byteOrderMark)
        }
        if let utf16 = nulPattern(prefix) {
            return EncodingDetection(encoding: utf16, byteOrderMarkLength: 0, evidence: .nulPattern)
        }
        if UTF8Validation.isValid(prefix, allowTruncatedEnd: !complete) {
            return EncodingDetection(encoding: .utf8, byteOrderMarkLength: 0, evidence: .validUTF8)
        }
        return EncodingDetection(encoding: .windows1252, byteOrderMarkLength: 0, evidence: .invalidUTF8)
    }

    /// UTF-16 without a byte-order mark: in ASCII-heavy text one byte of every pair is zero.
    private static func nulPattern(_ bytes: UnsafeRawBufferPointer) -> TextEncoding? {
        let pairs = bytes.count / 2
        guard pairs >= 1 else { return nil }
        var evenZeros = 0
        var oddZeros = 0
        for pair in 0..<pairs {
            if bytes[2 * pair] == 0 { evenZeros += 1 }
            if bytes[2 * pair + 1] == 0 { oddZeros += 1 }
        }
        // Little-endian ASCII: "a\0b\0" (zeros at odd offsets). Demand a clear majority on one
        // side and almost none on the other, so binary data or a stray NUL does not qualify.
        if oddZeros * 10 >= pairs * 3, evenZeros * 20 <= pairs { return .utf16LittleEndian }
        if evenZeros * 10 >= pairs * 3, oddZeros * 20 <= pairs { return .utf16BigEndian }
        return nil
    }
}

/// UTF-8 well-formedness as the Unicode standard defines it (no overlongs, surrogates or > U+10FFFF).
public enum UTF8Validation {
    /// Whether `bytes` is well-formed UTF-8; with `allowTruncatedEnd`, a sequence cut off by the
    /// end of the buffer counts as valid (more bytes may follow).
    public static func isValid(_ bytes: UnsafeRawBufferPointer, allowTruncatedEnd: Bool = false) -> Bool {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
        return firstInvalidOffset(
            UnsafeBufferPointer(start: base, count: bytes.count), allowTruncatedEnd: allowTruncatedEnd) == nil
    }

    /// The offset of the first byte that starts an ill-formed sequence, or nil when all is well-formed.
    public static func firstInvalidOffset(_ bytes: UnsafeBufferPointer<UInt8>, allowTruncatedEnd: Bool = false) -> Int?
    {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var index = 0
        while index < count {
            // Skip ASCII eight bytes at a time.
            while index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            guard index < count else { break }
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var lowest: UInt8 = 0x80
            var highest: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                lowest = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                highest = 0x9F
            case 0xF0:
                length = 4
                lowest = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                highest = 0x8F
            default: return index
            }
            for offset in 1..<length {
                guard index + offset < count else { return allowTruncatedEnd ? nil : index }
                let byte = bytes[index + offset]
                let low = offset == 1 ? lowest : 0x80
                let high = offset == 1 ? highest : 0xBF
                if byte < low || byte > high { return index }
            }
            index += length
        }
        return nil
    }

    /// Whether any byte has its high bit set (a fast test before validating).
    @inline(__always)
    public static func containsNonASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let count = bytes.count
        var index = 0
        var accumulated: UInt64 = 0
        while index + 8 <= count {
            accumulated |= UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            index += 8
        }
        while index < count {
            accumulated |= UInt64(base[index])
            index += 1
        }
        return accumulated & 0x8080_8080_8080_8080 != 0
    }
}
