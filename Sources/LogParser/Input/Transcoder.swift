import ScanModel

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
    /// Whether the next bytes start a line (after a line feed): they are checked for a new encoding.
    private var atLineStart = false
    private var lookahead: [UInt8] = []
    private var lookaheadOrigin = 0
    /// Set when a log in another encoding begins at a line start; the reader switches.
    private(set) var switchRequest: TextEncoding?
    /// How many bytes of the last chunk were decoded before the switch point.
    private(set) var consumedBeforeSwitch = 0
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

    /// The bytes held at a line start when an encoding switch was requested; they belong to the new encoding.
    mutating func takeLookahead() -> [UInt8] {
        defer {
            lookahead.removeAll()
            atLineStart = false
        }
        return lookahead
    }

    /// The original offset where the bytes of the new encoding begin.
    var switchOrigin: Int { lookaheadOrigin }

    /// Flushes what is left at the end of the input (an odd byte, a lone high surrogate).
    mutating func finish(into output: UnsafeMutablePointer<UInt8>, newlineOrigins: inout OffsetQueue) -> Int {
        var written = 0
        if !lookahead.isEmpty {
            let bigEndian = encoding == .utf16BigEndian
            switch lineStartDecision(bigEndian: bigEndian, atEnd: true) {
            case .switchEncoding(.utf8):
                // The input ends with a short line of ASCII after UTF-16 text: the reader takes it as UTF-8.
                switchRequest = .utf8
                return written
            case .switchEncoding:
                lookahead.removeAll()  // only a byte-order mark of an empty log
            case .stay(let dropByteOrderMark):
                written += replayLookahead(
                    dropByteOrderMark: dropByteOrderMark, bigEndian: bigEndian, into: output + written,
                    newlineOrigins: &newlineOrigins)
            case .needMoreInput:
                written += replayLookahead(
                    dropByteOrderMark: false, bigEndian: bigEndian, into: output + written,
                    newlineOrigins: &newlineOrigins)
            }
        }
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
            // A byte-order mark at a line start begins a log in another encoding (logs concatenated
            // through a pipe): Windows-1252 text never starts a line with these bytes.
            if windows1252LineStart, byte == 0xEF || byte == 0xFF || byte == 0xFE,
                let next = Self.byteOrderMark(input, at: index)
            {
                switchRequest = next
                consumedBeforeSwitch = index
                lookaheadOrigin = base + index
                originalOffset = base + index
                return written
            }
            windows1252LineStart = byte == 0x0A
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

    /// Where byte-order marks were dropped at line starts (a log in the same encoding begins there),
    /// until the reader delivers those lines.
    private var droppedMarks: [Int] = []

    /// Whether a byte-order mark was dropped at the start of the line at `origin` (forgotten once asked).
    mutating func takeDroppedMark(at origin: Int) -> Bool {
        guard let index = droppedMarks.firstIndex(of: origin) else { return false }
        droppedMarks.remove(at: index)
        return true
    }

    /// Whether the next Windows-1252 byte starts a line.
    private var windows1252LineStart = true

    /// The encoding whose byte-order mark starts at `index` (all of it in `input`), if any.
    static func byteOrderMark(_ input: UnsafeRawBufferPointer, at index: Int) -> TextEncoding? {
        if index + 2 < input.count, input[index] == 0xEF, input[index + 1] == 0xBB, input[index + 2] == 0xBF {
            return .utf8
        }
        if index + 1 < input.count, input[index] == 0xFF, input[index + 1] == 0xFE { return .utf16LittleEndian }
        if index + 1 < input.count, input[index] == 0xFE, input[index + 1] == 0xFF { return .utf16BigEndian }
        return nil
    }

    private mutating func decodeUTF16(
        _ input: UnsafeRawBufferPointer, bigEndian: Bool, into output: UnsafeMutablePointer<UInt8>,
        newlineOrigins: inout OffsetQueue
    ) -> Int {
        var written = 0
        var index = 0
        let count = input.count
        let base = originalOffset
        while index < count {
            guard atLineStart else {
                index = decodeUnits(
                    input, from: index, origin: base, bigEndian: bigEndian, into: output, written: &written,
                    newlineOrigins: &newlineOrigins)
                continue
            }
            // The start of a line: hold its first bytes until we know it is still UTF-16.
            if lookahead.isEmpty { lookaheadOrigin = base + index }
            while index < count, lookahead.count < Self.lookaheadLength {
                let byte = input[index]
                lookahead.append(byte)
                index += 1
                if byte == 0 || byte >= 0x80 || lookahead.count == 2 && Self.isByteOrderMark(lookahead) { break }
            }
            switch lineStartDecision(bigEndian: bigEndian, atEnd: false) {
            case .needMoreInput:
                break
            case .switchEncoding(let encoding):
                switchRequest = encoding
                consumedBeforeSwitch = index
                originalOffset = base + index
                return written
            case .stay(let dropByteOrderMark):
                written += replayLookahead(
                    dropByteOrderMark: dropByteOrderMark, bigEndian: bigEndian, into: output + written,
                    newlineOrigins: &newlineOrigins)
            }
        }
        originalOffset += count
        return written
    }

    /// How many bytes at a line start decide whether UTF-16 text goes on.
    static let lookaheadLength = 8

    enum LineStartDecision {
        case needMoreInput
        case switchEncoding(TextEncoding)
        case stay(dropByteOrderMark: Bool)
    }

    /// UTF-16 text of ASCII has a NUL in every code unit; eight bytes without one, all printable
    /// ASCII (or a UTF-8 byte-order mark), mean a UTF-8 log was concatenated after this one.
    private func lineStartDecision(bigEndian: Bool, atEnd: Bool) -> LineStartDecision {
        if lookahead.count >= 3, lookahead[0] == 0xEF, lookahead[1] == 0xBB, lookahead[2] == 0xBF {
            return .switchEncoding(.utf8)
        }
        if lookahead.count >= 2 {
            let sameOrder: [UInt8] = bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]
            let otherOrder: [UInt8] = bigEndian ? [0xFF, 0xFE] : [0xFE, 0xFF]
            if Array(lookahead.prefix(2)) == sameOrder { return .stay(dropByteOrderMark: true) }
            if Array(lookahead.prefix(2)) == otherOrder {
                return .switchEncoding(bigEndian ? .utf16LittleEndian : .utf16BigEndian)
            }
        }
        let asciiText = lookahead.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        if asciiText {
            if lookahead.count >= Self.lookaheadLength { return .switchEncoding(.utf8) }
            if atEnd { return lookahead.count >= 2 ? .switchEncoding(.utf8) : .stay(dropByteOrderMark: false) }
            return .needMoreInput
        }
        if lookahead.count == 1, lookahead[0] == 0xEF || lookahead[0] == 0xFE || lookahead[0] == 0xFF, !atEnd {
            return .needMoreInput
        }
        if lookahead.count == 2, lookahead[0] == 0xEF, lookahead[1] == 0xBB, !atEnd { return .needMoreInput }
        return .stay(dropByteOrderMark: false)
    }

    private static func isByteOrderMark(_ bytes: [UInt8]) -> Bool {
        (bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)
    }

    /// Decodes the held line-start bytes as UTF-16 after all.
    private mutating func replayLookahead(
        dropByteOrderMark: Bool, bigEndian: Bool, into output: UnsafeMutablePointer<UInt8>,
        newlineOrigins: inout OffsetQueue
    ) -> Int {
        var replay = lookahead
        var origin = lookaheadOrigin
        lookahead.removeAll(keepingCapacity: true)
        atLineStart = false
        if dropByteOrderMark {
            replay.removeFirst(2)
            origin += 2
            if droppedMarks.count < 16 { droppedMarks.append(lookaheadOrigin) }
        }
        var written = 0
        replay.withUnsafeBytes { bytes in
            var index = 0
            while index < bytes.count {
                // A replay holds at most one line start (its decisive byte ends it), so no nested check.
                index = decodeUnits(
                    bytes, from: index, origin: origin, bigEndian: bigEndian, into: output, written: &written,
                    newlineOrigins: &newlineOrigins)
            }
        }
        return written
    }

    /// Decodes code units from `from` up to the end of `input` or just past a line feed (which
    /// sets `atLineStart`); returns where it stopped.
    private mutating func decodeUnits(
        _ input: UnsafeRawBufferPointer, from: Int, origin: Int, bigEndian: Bool,
        into output: UnsafeMutablePointer<UInt8>,
        written: inout Int, newlineOrigins: inout OffsetQueue
    ) -> Int {
        var index = from
        let count = input.count
        // Complete a code unit whose first byte ended the previous piece.
        if let first = pendingByte, index < count {
            pendingByte = nil
            let second = input[index]
            let unit = bigEndian ? UInt16(first) << 8 | UInt16(second) : UInt16(second) << 8 | UInt16(first)
            written += emit(unit, output + written)
            index += 1
            if unit == 0x0A {
                newlineOrigins.append(origin + index)
                atLineStart = true
                return index
            }
        }
        while index + 1 < count {
            let unit =
                bigEndian
                ? UInt16(input[index]) << 8 | UInt16(input[index + 1])
                : UInt16(input[index + 1]) << 8 | UInt16(input[index])
            index += 2
            if unit < 0x80, pendingHighSurrogate == nil {
                output[written] = UInt8(truncatingIfNeeded: unit)
                written += 1
                if unit == 0x0A {
                    newlineOrigins.append(origin + index)
                    atLineStart = true
                    return index
                }
            } else if unit == 0xFEFF, written == 0 || output[written - 1] == 0x0A {
                continue  // a byte-order mark at a line start is no text
            } else {
                written += emit(unit, output + written)
            }
        }
        if index < count {
            pendingByte = input[index]
            index += 1
        }
        return index
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
