import Glibc
import ScanModel

/// One line of an input, as a view of the reader's buffer: non-escapable, so that it cannot be
/// kept past the callback it is given to (the buffer is reused for the next line).
public struct Line: ~Escapable {
    /// The line's text in UTF-8, without its line terminator (LF, CRLF, or a final lone CR).
    public let bytes: Span<UInt8>
    /// The same bytes for this module's parsers, which look at them only while the line lives.
    let buffer: UnsafeBufferPointer<UInt8>
    /// The line number in its input, from 1.
    public let number: Int
    /// The offset in the original input (before transcoding) of the line's first byte.
    public let byteOffset: Int
    /// How many UTF-8 bytes of this line were dropped because it was longer than the maximum.
    public let skippedBytes: Int

    @_lifetime(borrow buffer)
    public init(buffer: UnsafeBufferPointer<UInt8>, number: Int, byteOffset: Int, skippedBytes: Int) {
        self.buffer = buffer
        self.bytes = buffer.span
        self.number = number
        self.byteOffset = byteOffset
        self.skippedBytes = skippedBytes
    }

    /// The bytes as a raw buffer, the form ``Matcher`` takes.
    var rawBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(buffer) }

    /// The line as a `String` (allocates: only for lines that matter).
    public var text: String { String(decoding: buffer, as: UTF8.self) }
}

/// What a ``LineReader`` read: counts for the summary and the JSON result.
public struct ReaderStatistics: Sendable, Equatable, Codable {
    /// Bytes read from the input, as stored (before transcoding).
    public var bytesRead = 0
    /// Lines delivered.
    public var lines = 0
    /// Lines longer than the maximum line length (delivered cut short).
    public var longLines = 0
    /// UTF-8 bytes dropped from those lines.
    public var skippedBytes = 0
    /// Lines in a UTF-8 input that were not valid UTF-8 and were read as Windows-1252.
    public var windows1252Lines = 0
    /// UTF-16 code units or bytes that could not be decoded and became U+FFFD.
    public var replacedCharacters = 0
    /// NUL characters in the text (binary data: no log holds them).
    public var nulBytes = 0
    /// Files that began after the input's first bytes: a byte-order mark at a line's start (a file
    /// concatenated after another), a followed file truncated or replaced. Each begins a new log.
    public var fileStarts = 0
    /// How many times the encoding changed after the first (a count, so that a reader of every
    /// line need not look at ``LineReader/encodings``).
    public var encodingChanges = 0

    public init() {}
}

/// Reads lines from a byte stream in fixed chunks through a rolling buffer, in constant memory.
///
/// The encoding is detected from the first bytes (see ``EncodingDetection``) unless given, and
/// the stream is transcoded to UTF-8 as it is read. Lines end at LF or CRLF; a lone CR at the end
/// of the input is dropped too. A line longer than `maximumLineLength` bytes is delivered cut to
/// that length (at a character boundary) and the rest is skipped without being buffered.
public final class LineReader {
    /// The default maximum line length: 1 MiB.
    public static let defaultMaximumLineLength = 1 << 20
    /// The default size of one read: 256 KiB.
    public static let defaultChunkSize = 256 << 10
    /// How many bytes are examined to detect the encoding.
    public static let detectionWindow = 4096
    /// On a live input, how long (milliseconds) detection waits for more once some bytes came.
    static let detectionPause: Int32 = 200

    private var source: any ByteSource
    private let chunkSize: Int
    /// The longest line delivered whole, in UTF-8 bytes.
    public let maximumLineLength: Int
    private let forcedEncoding: TextEncoding?

    /// The detected or forced encoding; nil until the first bytes have been read.
    public private(set) var detection: EncodingDetection?
    /// Counts of what has been read so far.
    public private(set) var statistics = ReaderStatistics()
    /// Every encoding the input was read in, in order: more than one when logs in different
    /// encodings were concatenated (each announced by its byte-order mark or, after UTF-16, by ASCII text).
    public fileprivate(set) var encodings: [TextEncoding] = []

    /// Creates a reader; `chunkSize` is the size of each read (any size from 1 byte works).
    public init(
        source: some ByteSource, chunkSize: Int = LineReader.defaultChunkSize,
        maximumLineLength: Int = LineReader.defaultMaximumLineLength, encoding: TextEncoding? = nil
    ) {
        self.source = source
        self.chunkSize = max(1, chunkSize)
        self.maximumLineLength = max(1, maximumLineLength)
        self.forcedEncoding = encoding
    }

    /// For a live input (a pipe, a followed file): after this many milliseconds without a byte,
    /// `onIdle` is called, so that what is held can be completed. Nil never waits (files, memory).
    public var idleTimeout: Int32?

    /// Reads the whole input and calls `body` with each line in order; `onIdle` when a live input
    /// has been quiet for ``idleTimeout``.
    public func forEachLine(_ body: (Line) throws -> Void, onIdle: () throws -> Void = {}) throws {
        var state = try ReadState(reader: self)
        defer { state.deallocate() }
        try state.run(body, onIdle: onIdle)
    }

    // MARK: - Reading

    /// The per-call state of one pass over the input: buffers live only while reading.
    private struct ReadState {
        unowned let reader: LineReader
        /// Decoded UTF-8 text; `buffer[lineStart..<end]` is the line being assembled.
        let buffer: UnsafeMutablePointer<UInt8>
        let capacity: Int
        /// Raw bytes before transcoding (unused for UTF-8, which is read straight into `buffer`).
        let raw: UnsafeMutableRawBufferPointer
        var lineStart = 0
        var end = 0
        var searchFrom = 0
        var lineNumber = 0
        /// Decoded offset of `buffer[0]` in the decoded stream (UTF-8 only: equals the original offset minus the BOM).
        var decodedBase = 0
        var lineOrigin = 0
        var skippedInLine = 0
        var transcoder: Transcoder?
        var newlineOrigins = OffsetQueue()
        /// In UTF-8: original offset minus decoded offset (the byte-order mark, or where UTF-8 resumed).
        var originDelta = 0
        /// Whether the current line's start was checked for a UTF-16 byte-order mark (a new log in a pipe).
        var checkedLineStart = false
        var replacedBefore = 0
        var scratch: [UInt8] = []
        /// Whether the input is taken for Windows-1252 (its first bytes were not UTF-8) while it is
        /// read as UTF-8 line by line: a line that is valid UTF-8 is read so (a UTF-8 log after a
        /// Windows-1252 one in a pipe), any other as Windows-1252, without counting it as an exception.
        var assumedWindows1252 = false

        init(reader: LineReader) throws {
            self.reader = reader
            let decodedChunk = Transcoder.maximumOutput(forInput: reader.chunkSize)
            self.capacity = reader.maximumLineLength + decodedChunk + 8
            self.buffer = .allocate(capacity: capacity)
            self.raw = .allocate(byteCount: reader.chunkSize, alignment: 8)
        }

        func deallocate() {
            buffer.deallocate()
            raw.deallocate()
        }

        /// Reads the next piece of the input; a quiet live input calls `onIdle` and is waited on again.
        mutating func readChunk(into buffer: UnsafeMutableRawBufferPointer, _ onIdle: () throws -> Void) throws -> Int {
            guard let timeout = reader.idleTimeout else { return try reader.source.read(into: buffer) }
            while true {
                let restarts = reader.source.restarts
                let count = try reader.source.read(into: buffer, waitingAtMost: timeout)
                if reader.source.restarts != restarts { reader.statistics.fileStarts += 1 }
                if let count { return count }
                try onIdle()
            }
        }

        mutating func run(_ body: (Line) throws -> Void, onIdle: () throws -> Void) throws {
            try detectEncoding(body, onIdle)
            guard reader.detection != nil else { return }
            while true {
                if transcoder == nil {
                    // UTF-8 is read straight into the line buffer: no copy, no transcoding.
                    makeRoom(for: reader.chunkSize)
                    let count = try readChunk(
                        into: UnsafeMutableRawBufferPointer(start: buffer + end, count: reader.chunkSize), onIdle)
                    if count == 0 { break }
                    reader.statistics.bytesRead += count
                    end += count
                    try deliverCompleteLines(body)
                } else {
                    let count = try readChunk(into: raw, onIdle)
                    if count == 0 { break }
                    reader.statistics.bytesRead += count
                    try append(UnsafeRawBufferPointer(start: raw.baseAddress, count: count), body)
                }
            }
            if var transcoder {
                makeRoom(for: 64)
                end += transcoder.finish(into: buffer + end, newlineOrigins: &newlineOrigins)
                self.transcoder = transcoder
                try deliverCompleteLines(body)
                if transcoder.switchRequest == .utf8 {
                    let leftover = transcoder.takeLookahead()
                    try switchEncoding(to: .utf8, at: transcoder.switchOrigin, leftover: leftover, body)
                } else {
                    replacedBefore += transcoder.replacements
                }
            }
            reader.statistics.replacedCharacters = replacedBefore
            try deliverLastLine(body)
        }

        /// Switches to another encoding where a new log begins at a line start, and decodes the
        /// bytes that follow in it.
        mutating func switchEncoding(
            to encoding: TextEncoding, at origin: Int, leftover: [UInt8], _ body: (Line) throws -> Void
        ) throws {
            reader.encodings.append(encoding)
            reader.statistics.encodingChanges += 1
            assumedWindows1252 = false
            if let transcoder { replacedBefore += transcoder.replacements }
            var leftover = leftover
            var origin = origin
            if encoding == .utf8, leftover.starts(with: [0xEF, 0xBB, 0xBF]) {
                leftover.removeFirst(3)
                origin += 3
            }
            if encoding == .utf8 {
                transcoder = nil
                originDelta = origin - (decodedBase + end)
            } else {
                transcoder = Transcoder(encoding: encoding, originalOffset: origin)
            }
            lineOrigin = origin
            checkedLineStart = true
            try leftover.withUnsafeBytes { try append($0, body) }
        }

        /// Reads until the detection window is full (or the input ends), then decides the encoding
        /// and feeds those first bytes through the normal path.
        /// A live input decides on what came before it went quiet (a short log written slowly must not
        /// wait for the window to fill).
        mutating func detectEncoding(_ body: (Line) throws -> Void, _ onIdle: () throws -> Void) throws {
            let window = LineReader.detectionWindow
            var prefix = [UInt8](repeating: 0, count: window)
            var filled = 0
            var ended = false
            while filled < window {
                let piece: Int? = try prefix.withUnsafeMutableBytes { bytes in
                    let target = UnsafeMutableRawBufferPointer(
                        rebasing: bytes[filled..<min(window, filled + reader.chunkSize)])
                    guard let timeout = reader.idleTimeout else { return try reader.source.read(into: target) }
                    // Once some bytes came, a pause between a writer's lines decides: a log written a
                    // line at a time is reported as it comes, not after the window fills.
                    return try reader.source.read(
                        into: target, waitingAtMost: filled > 0 ? min(timeout, LineReader.detectionPause) : timeout)
                }
                guard let count = piece else {
                    if filled > 0 { break }
                    try onIdle()
                    continue
                }
                if count == 0 {
                    ended = true
                    break
                }
                filled += count
            }
            reader.statistics.bytesRead += filled
            let head = prefix[0..<filled]
            let detection: EncodingDetection = head.withUnsafeBytes { bytes in
                let found = EncodingDetection.detect(bytes, isComplete: ended)
                guard let forced = reader.forcedEncoding else { return found }
                // A forced encoding still skips the byte-order mark that belongs to it.
                let bomLength =
                    found.encoding == forced && found.evidence == .byteOrderMark ? found.byteOrderMarkLength : 0
                return EncodingDetection(encoding: forced, byteOrderMarkLength: bomLength, evidence: .forced)
            }
            reader.detection = detection
            let byteOrderMarkLength = detection.byteOrderMarkLength
            reader.encodings = [detection.encoding]
            originDelta = byteOrderMarkLength
            lineOrigin = byteOrderMarkLength
            checkedLineStart = true
            if detection.encoding == .windows1252, detection.evidence == .invalidUTF8 {
                assumedWindows1252 = true
            } else if detection.encoding != .utf8 {
                transcoder = Transcoder(encoding: detection.encoding, originalOffset: byteOrderMarkLength)
            }
            guard filled > byteOrderMarkLength else { return }
            // Feed the detection window in pieces no larger than a chunk.
            var offset = byteOrderMarkLength
            while offset < filled {
                let piece = min(reader.chunkSize, filled - offset)
                try prefix.withUnsafeBytes { bytes in
                    try append(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + piece]), body)
                }
                offset += piece
            }
        }

        /// Appends input bytes (decoding them unless the input is UTF-8) and delivers complete lines.
        mutating func append(_ bytes: UnsafeRawBufferPointer, _ body: (Line) throws -> Void) throws {
            if var transcoder {
                makeRoom(for: Transcoder.maximumOutput(forInput: bytes.count))
                end += transcoder.decode(bytes, into: buffer + end, newlineOrigins: &newlineOrigins)
                if let next = transcoder.switchRequest {
                    // Deliver the lines of the old encoding first: the switch happens right after a line feed.
                    let leftover = transcoder.takeLookahead() + Array(bytes[transcoder.consumedBeforeSwitch...])
                    let origin = transcoder.switchOrigin
                    self.transcoder = transcoder
                    try deliverCompleteLines(body)
                    let skip = next == .utf8 ? 0 : 2  // a UTF-16 byte-order mark is no text
                    try switchEncoding(to: next, at: origin + skip, leftover: Array(leftover.dropFirst(skip)), body)
                    return
                }
                self.transcoder = transcoder
            } else {
                makeRoom(for: bytes.count)
                if let base = bytes.baseAddress {
                    (buffer + end).update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
                }
                end += bytes.count
            }
            try deliverCompleteLines(body)
        }

        /// Moves the unfinished line to the front when fewer than `count` bytes are free at the end.
        mutating func makeRoom(for count: Int) {
            guard capacity - end < count else { return }
            let pending = end - lineStart
            if lineStart > 0 {
                if pending > 0 { buffer.update(from: buffer + lineStart, count: pending) }
                decodedBase += lineStart
                searchFrom -= lineStart
                lineStart = 0
                end = pending
            }
            // The caller caps an unfinished line (maximum line length) before asking for room: a line
            // that fills the buffer from its start cannot be moved, so there must be room now.
            precondition(capacity - end >= count, "line buffer: no room for \(count) bytes (line not capped)")
        }

        /// Delivers every line that has its terminator, then caps the unfinished line at the maximum length.
        mutating func deliverCompleteLines(_ body: (Line) throws -> Void) throws {
            while searchFrom < end {
                if !checkedLineStart, transcoder == nil {
                    // A UTF-16 log concatenated after UTF-8 text announces itself with its byte-order mark.
                    guard end - lineStart >= 2 else { break }
                    checkedLineStart = true
                    let first = buffer[lineStart]
                    let second = buffer[lineStart + 1]
                    if (first == 0xFF && second == 0xFE) || (first == 0xFE && second == 0xFF) {
                        let leftover = Array(
                            UnsafeBufferPointer(start: buffer + lineStart + 2, count: end - lineStart - 2))
                        end = lineStart
                        searchFrom = lineStart
                        try switchEncoding(
                            to: first == 0xFF ? .utf16LittleEndian : .utf16BigEndian, at: lineOrigin + 2,
                            leftover: leftover,
                            body)
                        return
                    }
                }
                guard let found = memchr(buffer + searchFrom, 0x0A, end - searchFrom) else {
                    searchFrom = end
                    break
                }
                let newline = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                var lineEnd = newline
                if lineEnd > lineStart, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                // Keep at most the maximum; what follows, up to the terminator, is skipped (and what
                // was skipped before this chunk arrived is already in `skippedInLine`).
                let keptEnd = min(lineEnd, lineStart + reader.maximumLineLength)
                try deliver(from: lineStart, to: keptEnd, skipped: skippedInLine + (lineEnd - keptEnd), body)
                skippedInLine = 0
                lineStart = newline + 1
                searchFrom = lineStart
                lineOrigin = nextLineOrigin(afterNewlineAt: newline)
                checkedLineStart = false
            }
            // No terminator in sight: never hold more than the maximum line length.
            let pending = end - lineStart
            if pending > reader.maximumLineLength {
                let excess = pending - reader.maximumLineLength
                // A trailing CR may be the first half of a CRLF: keep it so the terminator is seen whole.
                let keepCR = buffer[end - 1] == 0x0D ? 1 : 0
                let dropped = excess - keepCR
                if dropped > 0 {
                    if keepCR == 1 { buffer[lineStart + reader.maximumLineLength] = 0x0D }
                    skippedInLine += dropped
                    decodedBase += dropped
                    end -= dropped
                    searchFrom = end
                }
            }
        }

        mutating func nextLineOrigin(afterNewlineAt newline: Int) -> Int {
            if transcoder != nil { return newlineOrigins.removeFirst() ?? (lineOrigin) }
            return decodedBase + newline + 1 + originDelta
        }

        mutating func deliverLastLine(_ body: (Line) throws -> Void) throws {
            guard end > lineStart || skippedInLine > 0 else { return }
            var lineEnd = end
            if lineEnd > lineStart, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let keptEnd = min(lineEnd, lineStart + reader.maximumLineLength)
            try deliver(from: lineStart, to: keptEnd, skipped: skippedInLine + (lineEnd - keptEnd), body)
            lineStart = end
        }

        mutating func deliver(from start: Int, to stop: Int, skipped: Int, _ body: (Line) throws -> Void) throws {
            lineNumber += 1
            var stop = stop
            var skipped = skipped
            if skipped > 0 {
                // Cut at a character boundary so the kept prefix stays valid UTF-8.
                let boundary = Self.characterBoundary(buffer, start: start, stop: stop)
                skipped += stop - boundary
                stop = boundary
                reader.statistics.longLines += 1
                reader.statistics.skippedBytes += skipped
            }
            reader.statistics.lines += 1
            var text = UnsafeBufferPointer(start: buffer + start, count: stop - start)
            // NUL bytes mark binary data (memchr: no cost on text).
            if var search = text.baseAddress {
                var remaining = text.count
                while remaining > 0, let found = memchr(search, 0, remaining) {
                    reader.statistics.nulBytes += 1
                    let next = found.assumingMemoryBound(to: UInt8.self) + 1
                    remaining -= search.distance(to: next)
                    search = UnsafePointer(next)
                }
            }
            var origin = lineOrigin
            // The byte-order mark of a UTF-16 log concatenated after another one in the same encoding:
            // the transcoder dropped it, and the line starts after it.
            if transcoder?.takeDroppedMark(at: origin) == true {
                origin += 2
                reader.statistics.fileStarts += 1
            }
            if transcoder == nil, text.count >= 3, text[0] == 0xEF, text[1] == 0xBB, text[2] == 0xBF {
                // The byte-order mark of a UTF-8 log concatenated after another one.
                text = UnsafeBufferPointer(rebasing: text[3...])
                origin += 3
                reader.statistics.fileStarts += 1
                if assumedWindows1252 {
                    assumedWindows1252 = false
                    reader.encodings.append(.utf8)
                    reader.statistics.encodingChanges += 1
                }
            }
            if transcoder == nil, UTF8Validation.containsNonASCII(text),
                UTF8Validation.firstInvalidOffset(text) != nil
            {
                // A UTF-8 input with a line that is not UTF-8: read that line as Windows-1252.
                scratch.removeAll(keepingCapacity: true)
                Windows1252.appendUTF8(of: text, to: &scratch)
                if !assumedWindows1252 { reader.statistics.windows1252Lines += 1 }
                try scratch.withUnsafeBufferPointer { converted in
                    try body(
                        Line(
                            buffer: converted, number: lineNumber, byteOffset: origin, skippedBytes: skipped))
                }
                return
            }
            try body(
                Line(
                    buffer: text, number: lineNumber, byteOffset: origin, skippedBytes: skipped))
        }

        /// The largest offset ≤ `stop` that does not split a UTF-8 sequence.
        static func characterBoundary(_ buffer: UnsafeMutablePointer<UInt8>, start: Int, stop: Int) -> Int {
            var index = stop
            var steps = 0
            // Step back over continuation bytes to the lead byte of the last sequence.
            while index > start, steps < 4, buffer[index - 1] & 0xC0 == 0x80 {
                index -= 1
                steps += 1
            }
            guard index > start else { return stop }
            let lead = buffer[index - 1]
            let length: Int
            switch lead {
            case 0xC0...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF7: length = 4
            default: return stop
            }
            // The sequence starting at index - 1 is complete only if all its bytes are before `stop`.
            return (index - 1) + length <= stop ? stop : index - 1
        }
    }
}
