import Knowledge
import ScanModel
import SystemCalls

/// What was read from one input: its encoding and how much of it could be read.
public struct InputSummary: Sendable, Equatable, Codable {
    /// The input's path (`-` for standard input).
    public var path: String
    /// The format of the (first) log in the input; nil when the input was only read, not parsed.
    public var format: LogFormat?
    /// Every log format found, each once in the order first seen.
    public var formats: [LogFormat]
    /// How many logs the input held (more than one when logs were concatenated).
    public var logs: Int
    /// The encoding the input was read as.
    public var encoding: TextEncoding
    /// How the encoding was decided.
    public var encodingEvidence: String
    /// Every encoding read, in order, when concatenated logs switched encoding mid-stream.
    public var encodings: [TextEncoding]?
    /// Bytes read, as stored.
    public var bytes: Int
    /// Lines read.
    public var lines: Int
    /// What could not be read as it was.
    public var skipped: Skipped
    /// Lines read without making their records, because they could not change the result (the
    /// fast path; 0 when every line is parsed).
    public var quietLines = 0

    /// Counts of text that was cut, replaced or re-read.
    public typealias Skipped = SkippedText
}

extension InputSummary.Skipped {
    /// A reader's counts so far, as skipped counts.
    init(_ statistics: ReaderStatistics, endedInsideRecord: Bool) {
        self.init(
            longLines: statistics.longLines, bytes: statistics.skippedBytes,
            windows1252Lines: statistics.windows1252Lines, undecodable: statistics.replacedCharacters,
            binaryBytes: statistics.nulBytes, endedInsideRecord: endedInsideRecord)
    }
}

extension InputSummary {
    init(path: String, detection: EncodingDetection?, statistics: ReaderStatistics, encodings: [TextEncoding]) {
        self.encodings = encodings.count > 1 ? encodings : nil
        self.path = path
        self.format = nil
        self.formats = []
        self.logs = 0
        self.encoding = detection?.encoding ?? .utf8
        self.encodingEvidence = detection?.evidence.rawValue ?? "empty input"
        self.bytes = statistics.bytesRead
        self.lines = statistics.lines
        self.skipped = Skipped(statistics, endedInsideRecord: false)
    }
}

/// Options for reading inputs.
public struct ReadOptions: Sendable {
    /// Bytes per read.
    public var chunkSize = LineReader.defaultChunkSize
    /// The longest line kept whole.
    public var maximumLineLength = LineReader.defaultMaximumLineLength
    /// An encoding that overrides detection.
    public var encoding: TextEncoding?
    /// The words of firewall-exception entries, for parsers that read named fields (table headers,
    /// XML attributes and elements); nil reads no named fields.
    public var vocabulary: FieldVocabulary?
    /// The words of the firewall's own record (netsh labels and values); nil reads no netsh output.
    public var firewall: FirewallVocabulary?
    /// For live inputs (pipes, `--follow`): milliseconds of quiet after which the records still
    /// open are completed and reported. Nil waits for the end (files).
    public var idleTimeout: Int32?
    /// Hears what happened to a followed file (truncated, replaced), for a note.
    public var onFileChange: (@Sendable (String) -> Void)?
    /// The numbers that make a record loud: a line whose record states one of them (an MSI note
    /// `Note: 1: 1708`) is never read without making its record (see ``LogStream/parse(_:_:onLogStart:ignorable:)``).
    public var loudNumbers: [ClosedRange<Int>] = []

    public init(
        chunkSize: Int = LineReader.defaultChunkSize, maximumLineLength: Int = LineReader.defaultMaximumLineLength,
        encoding: TextEncoding? = nil
    ) {
        self.chunkSize = chunkSize
        self.maximumLineLength = maximumLineLength
        self.encoding = encoding
    }
}

extension InputFile {
    /// Opens a line reader on the input (its contents, the file, or standard input) and runs `body` with it.
    func withLineReader<T>(options: ReadOptions, _ body: (LineReader) throws -> T) throws -> T {
        if let contents {
            return try body(
                LineReader(
                    source: MemorySource(contents), chunkSize: options.chunkSize,
                    maximumLineLength: options.maximumLineLength, encoding: options.encoding))
        }
        if follows {
            // A class: the reader and this frame share it, so the file closed is the one last opened.
            let source = try FollowingSource(path: path)
            source.onChange = options.onFileChange
            defer { source.close() }
            return try body(
                LineReader(
                    source: source, chunkSize: options.chunkSize, maximumLineLength: options.maximumLineLength,
                    encoding: options.encoding))
        }
        let source = try open()
        defer { if !isStandardInput { OS.close(source.descriptor) } }
        return try body(
            LineReader(
                source: source, chunkSize: options.chunkSize, maximumLineLength: options.maximumLineLength,
                encoding: options.encoding))
    }

    /// Reads the whole input, calling `body` for every line, and returns what was read.
    public func read(options: ReadOptions = ReadOptions(), _ body: (Line) throws -> Void = { _ in }) throws
        -> InputSummary
    {
        try withLineReader(options: options) { reader in
            try reader.forEachLine(body)
            return InputSummary(
                path: path, detection: reader.detection, statistics: reader.statistics, encodings: reader.encodings)
        }
    }
}
