import ScanModel
import Testing

@testable import LogParser

/// A line as the tests compare it: text, number, original offset and skipped bytes.
struct ReadLine: Equatable, CustomStringConvertible {
    let text: [UInt8]
    let number: Int
    let offset: Int
    let skipped: Int
    var description: String {
        "\(number)@\(offset)+\(skipped): \(String(decoding: text, as: UTF8.self).debugDescription)"
    }
}

func readAll(
    _ bytes: [UInt8], sourceChunk: Int = .max, readerChunk: Int = LineReader.defaultChunkSize,
    maximumLineLength: Int = LineReader.defaultMaximumLineLength, encoding: TextEncoding? = nil
) throws -> (lines: [ReadLine], reader: LineReader) {
    let reader = LineReader(
        source: MemorySource(bytes, chunkSize: sourceChunk), chunkSize: readerChunk,
        maximumLineLength: maximumLineLength, encoding: encoding)
    var lines: [ReadLine] = []
    try reader.forEachLine { line in
        lines.append(
            ReadLine(text: Array(line.buffer), number: line.number, offset: line.byteOffset, skipped: line.skippedBytes)
        )
    }
    return (lines, reader)
}

func utf16(_ text: String, bigEndian: Bool = false, byteOrderMark: Bool = true) -> [UInt8] {
    var bytes: [UInt8] = byteOrderMark ? (bigEndian ? [0xFE, 0xFF] : [0xFF, 0xFE]) : []
    for unit in text.utf16 {
        let high = UInt8(unit >> 8)
        let low = UInt8(unit & 0xFF)
        bytes += bigEndian ? [high, low] : [low, high]
    }
    return bytes
}

@Suite struct LineReaderTests {
    static let sample =
        "=== Verbose logging started: 11/16/2006  19:01:39  Build type: SHIP UNICODE 3.01.4000.2435 ===\r\n"
        + "MSI (s) (84:34) [12:12:03:391]: Größe € 😀 Überprüfung\r\n" + "\r\n"
        + "Action ended 16:34:29: InstallFiles. Return value 3.\n"
        + "last line without terminator\r"

    /// The sample's lines as UTF-8 bytes, split at LF only (Swift treats CRLF as one Character).
    static func rawLines() -> [[UInt8]] {
        Array(sample.utf8).split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    }

    /// Every encoding of the same text, and the offset of each line's start in that encoding.
    static func encodings() -> [(name: String, bytes: [UInt8], bomLength: Int, unitWidth: Int)] {
        [
            ("utf-8", Array(sample.utf8), 0, 1),
            ("utf-8 bom", [0xEF, 0xBB, 0xBF] + Array(sample.utf8), 3, 1),
            ("utf-16le bom", utf16(sample), 2, 2),
            ("utf-16be bom", utf16(sample, bigEndian: true), 2, 2),
        ]
    }

    @Test func linesAreIdenticalForEveryChunkingAndEncoding() throws {
        let expectedTexts = Self.rawLines().map { line -> [UInt8] in
            var bytes = line
            if bytes.last == 0x0D { bytes.removeLast() }
            return bytes
        }
        for (name, bytes, _, _) in Self.encodings() {
            let reference = try readAll(bytes).lines
            #expect(reference.map(\.text) == expectedTexts, "\(name)")
            for sourceChunk in [1, 2, 3, 5, 7, 64, 4096] {
                for readerChunk in [1, 2, 3, 8, 1024] {
                    let lines = try readAll(bytes, sourceChunk: sourceChunk, readerChunk: readerChunk).lines
                    #expect(lines == reference, "\(name): source chunk \(sourceChunk), reader chunk \(readerChunk)")
                }
            }
        }
    }

    @Test func byteOffsetsPointIntoTheOriginalInput() throws {
        for (name, bytes, bomLength, width) in Self.encodings() {
            let lines = try readAll(bytes, readerChunk: 3).lines
            var expected = bomLength
            var offsets: [Int] = []
            for line in Self.rawLines() {
                offsets.append(expected)
                expected += (width == 1 ? line.count : String(decoding: line, as: UTF8.self).utf16.count * 2) + width
            }
            #expect(lines.map(\.offset) == offsets, "\(name)")
        }
    }

    @Test func crlfSplitAcrossChunksAndLoneFinalCR() throws {
        let lines = try readAll(Array("a\r\nb\r".utf8), sourceChunk: 1, readerChunk: 1).lines
        #expect(lines.map { String(decoding: $0.text, as: UTF8.self) } == ["a", "b"])
        let crInside = try readAll(Array("a\rb\n".utf8)).lines
        #expect(crInside.map { String(decoding: $0.text, as: UTF8.self) } == ["a\rb"])
    }

    @Test func sameLineCountForUTF8AndUTF16() throws {
        let plain = try readAll(Array("a\r\nb".utf8)).lines
        let wide = try readAll(utf16("a\r\nb")).lines
        #expect(plain.count == 2)
        #expect(plain.map(\.text) == wide.map(\.text))
    }

    @Test func emptyInputsGiveNoLines() throws {
        #expect(try readAll([]).lines.isEmpty)
        #expect(try readAll([0xFF, 0xFE]).lines.isEmpty)
        #expect(try readAll([0xEF, 0xBB, 0xBF]).lines.isEmpty)
        #expect(try readAll(Array("\n".utf8)).lines.map(\.text) == [[]])
    }

    @Test func detectsUTF16WithoutByteOrderMarkFromTheNulPattern() throws {
        let little = try readAll(utf16("MSI (c) (12:34): hello\r\nnext\r\n", byteOrderMark: false))
        #expect(little.reader.detection?.encoding == .utf16LittleEndian)
        #expect(little.reader.detection?.evidence == .nulPattern)
        #expect(little.lines.map { String(decoding: $0.text, as: UTF8.self) } == ["MSI (c) (12:34): hello", "next"])
        let big = try readAll(utf16("MSI (c) (12:34): hello\r\n", bigEndian: true, byteOrderMark: false))
        #expect(big.reader.detection?.encoding == .utf16BigEndian)
    }

    @Test func windows1252WhenNotValidUTF8() throws {
        // "Erfolg- bzw. Fehlerstatus der Installation: 1603" in a German ANSI log, with ü (0xFC) and € (0x80).
        let ansi: [UInt8] =
            Array("Status f".utf8) + [0xFC] + Array("r Installation: 1603 ".utf8) + [0x80] + [0x0D, 0x0A]
        let result = try readAll(ansi, sourceChunk: 1, readerChunk: 1)
        #expect(result.reader.detection?.encoding == .windows1252)
        #expect(String(decoding: result.lines[0].text, as: UTF8.self) == "Status für Installation: 1603 €")
    }

    @Test func invalidLineLaterInAUTF8InputIsReadAsWindows1252() throws {
        let ascii = String(repeating: "MSI (s) (84:34) [12:12:03:391]: Doing action: InstallFiles\r\n", count: 100)
        let bytes = Array(ascii.utf8) + Array("Caf".utf8) + [0xE9] + Array("\r\nvalid ü\r\n".utf8)
        let result = try readAll(bytes, readerChunk: 7)
        #expect(result.reader.detection?.encoding == .utf8)
        #expect(result.reader.statistics.windows1252Lines == 1)
        #expect(result.lines.suffix(2).map { String(decoding: $0.text, as: UTF8.self) } == ["Café", "valid ü"])
    }

    @Test func utf16ErrorsBecomeReplacementCharacters() throws {
        // A lone high surrogate, then an odd final byte.
        let bytes: [UInt8] = [0xFF, 0xFE, 0x41, 0x00, 0x3D, 0xD8, 0x42, 0x00, 0x0A, 0x00, 0x43]
        for chunk in [1, 2, 3, 100] {
            let result = try readAll(bytes, sourceChunk: chunk, readerChunk: chunk)
            #expect(
                result.lines.map { String(decoding: $0.text, as: UTF8.self) } == ["A\u{FFFD}B", "\u{FFFD}"],
                "chunk \(chunk)")
            #expect(result.reader.statistics.replacedCharacters == 2)
        }
    }

    @Test func longLinesAreCutAtTheMaximumAndCounted() throws {
        let long = String(repeating: "x", count: 1000)
        let text = "first\n" + long + "\r\nafter\n" + long + "é"
        for chunk in [1, 3, 64, 4096] {
            let result = try readAll(Array(text.utf8), sourceChunk: chunk, readerChunk: chunk, maximumLineLength: 100)
            let lines = result.lines
            #expect(lines.count == 4, "chunk \(chunk)")
            #expect(lines.map(\.text.count) == [5, 100, 5, 100], "chunk \(chunk)")
            #expect(lines.map(\.skipped) == [0, 900, 0, 902], "chunk \(chunk)")
            #expect(lines[2].offset == 6 + 1000 + 2, "chunk \(chunk)")
            #expect(result.reader.statistics.longLines == 2)
        }
    }

    @Test func cutNeverSplitsACharacter() throws {
        // 99 ASCII bytes, then "é" (2 bytes) straddles the 100-byte limit.
        let text = String(repeating: "a", count: 99) + "é" + String(repeating: "b", count: 50)
        let lines = try readAll(Array(text.utf8), readerChunk: 16, maximumLineLength: 100).lines
        #expect(lines[0].text.count == 99)
        #expect(lines[0].skipped == 52)
        #expect(lines[0].text.withUnsafeBytes { UTF8Validation.isValid($0) })
    }

    @Test func concatenatedLogsSwitchEncodingAtTheirStart() throws {
        let first = Array("<html><body>first log\r\nsecond line\r\n".utf8)
        let second = utf16("=== Verbose logging started: 11/16/2006  19:01:39 ===\r\nMSI (s) (84:34): Größe\r\n")
        let third = [0xEF, 0xBB, 0xBF] + Array("Event[0]:\r\n  Source: Service Control Manager\r\n".utf8)
        let fourth = utf16("Action ended 16:34:29: InstallFiles. Return value 3.\r\n", bigEndian: true)
        let fifth = Array("ok\n".utf8)
        let parts = [first, second, third, fourth, fifth]
        var expected: [ReadLine] = []
        var offset = 0
        var number = 0
        for part in parts {
            for line in try readAll(part).lines {
                number += 1
                expected.append(ReadLine(text: line.text, number: number, offset: offset + line.offset, skipped: 0))
            }
            offset += part.count
        }
        let stream = parts.flatMap { $0 }
        for chunk in [1, 2, 3, 5, 8, 13, 4096] {
            let result = try readAll(stream, sourceChunk: chunk, readerChunk: chunk)
            #expect(result.lines == expected, "chunk \(chunk)")
            #expect(
                result.reader.encodings == [.utf8, .utf16LittleEndian, .utf8, .utf16BigEndian, .utf8], "chunk \(chunk)")
        }
    }

    @Test func nonASCIIUTF16LinesAreNotMistakenForANewLog() throws {
        // CJK text whose code units have no zero byte must stay UTF-16.
        let text = "MSI (s) (84:34): x\r\n操作开始 16:34:29: InstallFiles。\r\n最后\r\n"
        for chunk in [1, 3, 4096] {
            let result = try readAll(utf16(text), sourceChunk: chunk, readerChunk: chunk)
            #expect(
                result.lines.map { String(decoding: $0.text, as: UTF8.self) } == [
                    "MSI (s) (84:34): x", "操作开始 16:34:29: InstallFiles。", "最后",
                ])
            #expect(result.reader.encodings == [.utf16LittleEndian])
        }
    }

    @Test func forcedEncodingOverridesDetection() throws {
        let result = try readAll(Array("plain ascii\n".utf8), encoding: .windows1252)
        #expect(result.reader.detection?.encoding == .windows1252)
        #expect(result.reader.detection?.evidence == .forced)
        let wide = try readAll(utf16("x\n"), encoding: .utf16LittleEndian)
        #expect(wide.lines.map(\.text) == [Array("x".utf8)])
    }
}

@Suite struct UTF8ValidationTests {
    @Test(arguments: [
        ([0x41] as [UInt8], true), ([0xC3, 0xA9], true), ([0xE2, 0x82, 0xAC], true), ([0xF0, 0x9F, 0x98, 0x80], true),
        ([0xC0, 0x80], false), ([0xED, 0xA0, 0x80], false), ([0xF4, 0x90, 0x80, 0x80], false), ([0xFF], false),
        ([0xE2, 0x82], false), ([0x80], false),
    ])
    func wellFormedness(bytes: [UInt8], valid: Bool) {
        #expect(bytes.withUnsafeBytes { UTF8Validation.isValid($0) } == valid)
    }

    @Test func truncatedEndIsAcceptedOnlyWhenAsked() {
        let bytes: [UInt8] = Array("abcdefghij".utf8) + [0xE2, 0x82]
        #expect(bytes.withUnsafeBytes { UTF8Validation.isValid($0, allowTruncatedEnd: true) })
        #expect(!bytes.withUnsafeBytes { UTF8Validation.isValid($0, allowTruncatedEnd: false) })
    }
}
