/// Converts a stream of UTF-16 or Windows-1252 bytes to UTF-8, one chunk at a time.
///
/// A chunk may end anywhere: inside a UTF-16 code unit or between the halves of a surrogate
/// pair; the transcoder carries the partial unit to the next chunk. Ill-formed input (an unpaired
/// surrogate, an odd final byte) becomes U+FFFD. For every line feed it writes, it records the
/// offset in the original input of the byte after it, so lines keep their original byte offsets.
struct Transcoder {
    let encoding: TextEncoding
    /// Original input bytes consumed so far (including a byte-order mark).
    private(set) var originalOffset: Int
    private var pendingByte: UInt8?
    private var pendingHighSurrogate: UInt16?
    /// Code units or bytes that could not be decoded and were replaced by U+FFFD.
    private(set) var replacements = 0

    init(encoding: TextEncoding, originalOffset: Int) {
        self.encoding = encoding
        self.originalOffset = originalOffset
    }

    /// The most UTF-8 bytes `decode` can write for `count` input bytes.
    static func maximumOutput(forInput count: Int) -> Int { count * 3 + 8 }

    /// Decodes `input` into `output` (which must hold ``maximumOutput(forInput:)`` bytes);
    /// returns the number of bytes written.
    mutating func decode(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<UInt8>, newlineOrigins: inout OffsetQueue
    ) -> Int {
        switch encoding {
        case .windows1252: return decodeWindows1252(input, into: output, newlineOrigins: &newlineOrigins)
        case .utf16LittleEndian:
            return decodeUTF16(input, bigEndian: false, into: output, newlineOrigins: &newlineOrigins)
        case .utf16BigEndian: return decodeUTF16(input, bigEndian: true, into: output, newlineOrigins: &newlineOrigins)
        case .utf8:
            // UTF-8 is read in place by the line reader and never passes through here.
            if let base = input.baseAddress {
                output.update(from: base.assumingMemoryBound(to: UInt8.self), count: input.count)
            }
            var index = 0
            while index < input.count {
                if input[index] == 0x0A { newlineOrigins.append(originalOffset + index + 1) }
                index += 1
            }
            originalOffset += input.count
            return input.count
        }
    }

    /// Flushes what is left at the end of the input (an odd byte, a lone high surrogate).
    mutating func finish(into output: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0
        if pendingHighSurrogate != nil {
            pendingHighSurrogate = nil
            written += writeReplacement(output + written)
        }
        if pendingByte != nil {
            pendingByte = nil
            written += writeReplacement(output + written)
        }
        return written
    }

    private mutating func writeReplacement(_ output: UnsafeMutablePointer<UInt8>) -> Int {
        replacements += 1
        output[0] = 0xEF
        output[1] = 0xBF
        output[2] = 0xBD
        return 3
    }

    private mutating func decodeWindows1252(
        _ input: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<UInt8>, newlineOrigins: inout OffsetQueue
    ) -> Int {
        var written = 0
        let base = originalOffset
        for index in 0..<input.count {
            let byte = input[index]
            if byte < 0x80 {
                output[written] = byte
                written += 1
                if byte == 0x0A { newlineOrigins.append(base + index + 1) }
            } else {
                written += writeScalar(Windows1252.scalar(byte), output + written)
            }
        }
        originalOffset += input.count
        return written
    }

    private mutating func decodeUTF16(
        _ input: UnsafeRawBufferPointer, bigEndian: Bool, into output: UnsafeMutablePointer<UInt8>,
        newlineOrigins: inout OffsetQueue
    ) -> Int {
        var written = 0
        var index = 0
        let count = input.count
        // `position` is the original offset of the byte at `index`.
        let base = originalOffset
        // Complete a code unit whose first byte ended the previous chunk.
        if let first = pendingByte, count > 0 {
            pendingByte = nil
            let second = input[0]
            let unit = bigEndian ? UInt16(first) << 8 | UInt16(second) : UInt16(second) << 8 | UInt16(first)
            written += emit(unit, output + written)
            if unit == 0x0A { newlineOrigins.append(base + 1) }
            index = 1
        }
        while index + 1 < count {
            let unit =
                bigEndian
                ? UInt16(input[index]) << 8 | UInt16(input[index + 1])
                : UInt16(input[index + 1]) << 8 | UInt16(input[index])
            if unit < 0x80, pendingHighSurrogate == nil {
                output[written] = UInt8(truncatingIfNeeded: unit)
                written += 1
                if unit == 0x0A { newlineOrigins.append(base + index + 2) }
            } else {
                written += emit(unit, output + written)
            }
            index += 2
        }
        if index < count { pendingByte = input[index] }
        originalOffset += count
        return written
    }

    /// Writes one UTF-16 code unit, pairing surrogates across calls.
    private mutating func emit(_ unit: UInt16, _ output: UnsafeMutablePointer<UInt8>) -> Int {
        var written = 0
        if let high = pendingHighSurrogate {
            pendingHighSurrogate = nil
            if (0xDC00...0xDFFF).contains(unit) {
                let scalar = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(unit) - 0xDC00)
                return writeScalar(scalar, output)
            }
            written += writeReplacement(output)
        }
        switch unit {
        case 0xD800...0xDBFF:
            pendingHighSurrogate = unit
            return written
        case 0xDC00...0xDFFF:
            return written + writeReplacement(output + written)
        default:
            return written + writeScalar(UInt32(unit), output + written)
        }
    }

    @inline(__always)
    private func writeScalar(_ scalar: UInt32, _ output: UnsafeMutablePointer<UInt8>) -> Int {
        switch scalar {
        case 0..<0x80:
            output[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            output[0] = UInt8(0xC0 | (scalar >> 6))
            output[1] = UInt8(0x80 | (scalar & 0x3F))
            return 2
        case 0x800..<0x10000:
            output[0] = UInt8(0xE0 | (scalar >> 12))
            output[1] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
            output[2] = UInt8(0x80 | (scalar & 0x3F))
            return 3
        default:
            output[0] = UInt8(0xF0 | (scalar >> 18))
            output[1] = UInt8(0x80 | ((scalar >> 12) & 0x3F))
            output[2] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
            output[3] = UInt8(0x80 | (scalar & 0x3F))
            return 4
        }
    }
}

/// The Windows-1252 code page (as the WHATWG Encoding standard maps it).
public enum Windows1252 {
    /// The Unicode scalar for one byte; bytes 0x81, 0x8D, 0x8F, 0x90 and 0x9D map to the C1 control of the same value.
    @inline(__always)
    public static func scalar(_ byte: UInt8) -> UInt32 {
        guard byte >= 0x80, byte < 0xA0 else { return UInt32(byte) }
        return UInt32(high[Int(byte - 0x80)])
    }

    private static let high: [UInt16] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    /// Transcodes a whole Windows-1252 buffer to UTF-8, appending to `output`.
    public static func appendUTF8(of bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        for byte in bytes {
            let scalar = Windows1252.scalar(byte)
            if scalar < 0x80 {
                output.append(UInt8(scalar))
            } else if scalar < 0x800 {
                output.append(UInt8(0xC0 | (scalar >> 6)))
                output.append(UInt8(0x80 | (scalar & 0x3F)))
            } else {
                output.append(UInt8(0xE0 | (scalar >> 12)))
                output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                output.append(UInt8(0x80 | (scalar & 0x3F)))
            }
        }
    }
}

/// A first-in, first-out queue of offsets that reuses its storage.
struct OffsetQueue {
    private var storage: [Int] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }

    mutating func append(_ offset: Int) { storage.append(offset) }

    mutating func removeFirst() -> Int? {
        guard head < storage.count else { return nil }
        let value = storage[head]
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return value
    }
}
