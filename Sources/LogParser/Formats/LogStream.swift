import Knowledge

/// Turns the lines of one input into records: detects the format of each log in it (an input may
/// hold several logs concatenated through a pipe) and hands each line to that format's parser.
public struct LogStream {
    /// The input's path (`-` for standard input).
    public let path: String
    /// A format that overrides detection for the whole input.
    public let formatHint: LogFormat?
    /// The formats of the logs found, each once, in the order first seen (bounded: never grows with the input).
    public private(set) var formats: [LogFormat] = []
    /// How many logs the input held (concatenated logs each count).
    public private(set) var logCount = 0
    private var currentFormat: LogFormat?

    private var parser: Parser?
    /// Plain-text `Key: value` lines held until their block ends.
    private var block = KeyValueBlock()
    private var sawContent = false

    private enum Parser {
        case msi(MSIParser)
        case markup(MarkupParser)
        case event(EventParser)
        case plain
    }

    /// The deepest markup nesting tracked (deeper elements are counted, not kept): contexts stay short.
    public static let maximumNesting = MarkupParser.maximumDepth

    /// The words of named fields, for the markup parser's tables and XML fields.
    public let vocabulary: FieldNames?

    public init(path: String, formatHint: LogFormat? = nil, vocabulary: FieldVocabulary? = nil) {
        self.path = path
        self.formatHint = formatHint
        self.vocabulary = vocabulary.map(FieldNames.init)
    }

    /// The format of the first log, or plain text when the input was empty.
    public var format: LogFormat { formats.first ?? formatHint ?? .plainText }

    /// Parses one line, emitting zero or more records.
    public mutating func parse(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        if formatHint == nil, let starting = Self.logStart(line.bytes),
            !(starting == currentFormat && !sawContent)
        {
            // A new log begins here: a second MSI header, a new HTML or XML document, an export header.
            // ("<!DOCTYPE html>" then "<html>" is one document: nothing was read between them.)
            try begin(starting, emit)
        } else if parser == nil {
            let trimmed = Bytes.trimmed(line.bytes)
            if trimmed.isEmpty { return }  // leading blank lines decide nothing
            try begin(formatHint ?? Self.guess(trimmed), emit)
        } else if formatHint == nil, case .plain = parser, linesInLog < Self.fragmentWindow {
            // A fragment pasted with a line of text before it ("Here is the log:"): the first lines
            // with a shape of their own decide, without a header.
            let trimmed = Bytes.trimmed(line.bytes)
            let guessed = trimmed.isEmpty ? .plainText : Self.guess(trimmed)
            if guessed == .msiVerbose || guessed == .deploymentHTML {
                if !block.isEmpty { try block.flush(path: path, vocabulary: vocabulary, emit) }
                switchFormat(to: guessed)
            }
        }
        linesInLog += 1
        if !sawContent, !Bytes.trimmed(line.bytes).isEmpty, Self.logStart(line.bytes) == nil { sawContent = true }
        switch parser {
        case .msi(var msi):
            parser = nil
            try msi.parse(line, emit)
            parser = .msi(msi)
        case .markup(var markup):
            parser = nil
            try markup.parse(line, emit)
            parser = .markup(markup)
        case .event(var event):
            parser = nil
            try event.parse(line, emit)
            parser = .event(event)
        case .plain:
            // "Key: value" lines are held as a block (netsh rule listings, transcripts); others go out now.
            if vocabulary != nil {
                if block.take(line) {
                    if block.isFull { try block.flush(path: path, vocabulary: vocabulary, emit) }
                    return
                }
                if !block.isEmpty { try block.flush(path: path, vocabulary: vocabulary, emit) }
            }
            let bytes = line.bytes
            try emit(
                RecordDraft(
                    bytes: bytes, path: path, line: line.number, byteOffset: line.byteOffset, format: .plainText,
                    kind: .text, context: [], clock: nil, inRollback: false, outcome: nil, number: nil, event: nil))
        case nil:
            break
        }
    }

    /// Whether the input ended inside a record (set by ``finish(_:)``; a new log resets it).
    public private(set) var endedInsideRecord = false

    /// Flushes records still pending at the end of the input.
    public mutating func finish(_ emit: (RecordDraft) throws -> Void) rethrows {
        if !block.isEmpty { try block.flush(path: path, vocabulary: vocabulary, emit) }
        switch parser {
        case .markup(let markup): endedInsideRecord = markup.isInsideRecord
        case .event(let event): endedInsideRecord = event.isInsideRecord
        case .msi(let msi): endedInsideRecord = msi.isInsideRecord
        default: endedInsideRecord = false
        }
        switch parser {
        case .markup(var markup): try markup.finish(emit)
        case .event(var event): try event.finish(emit)
        default: break
        }
        parser = nil
    }

    /// How many first lines of a plain-text log may still reveal it as a fragment of another format.
    static let fragmentWindow = 20
    /// Lines read in the current log.
    private var linesInLog = 0

    /// The current log turns out to be of another format: the parser changes, the log count does not.
    private mutating func switchFormat(to format: LogFormat) {
        if formats.last == currentFormat, formats.filter({ $0 == currentFormat }).count == 1, logCount == 1 {
            formats.removeLast()
        }
        if !formats.contains(format) { formats.append(format) }
        currentFormat = format
        parser = makeParser(format)
    }

    /// A new parser for a format.
    private func makeParser(_ format: LogFormat) -> Parser {
        switch format {
        case .msiVerbose: .msi(MSIParser(path: path))
        case .deploymentHTML, .lcscmdXML: .markup(MarkupParser(path: path, format: format, vocabulary: vocabulary))
        case .eventText, .eventCSV: .event(EventParser(path: path, format: format))
        case .plainText: .plain
        }
    }

    private mutating func begin(_ format: LogFormat, _ emit: (RecordDraft) throws -> Void) rethrows {
        try finish(emit)
        linesInLog = 0
        if !formats.contains(format) { formats.append(format) }
        currentFormat = format
        logCount += 1
        sawContent = false
        parser = makeParser(format)
    }

    // MARK: - Detection

    /// The format of a log that starts at this line, when the line is unmistakably a log's first.
    static func logStart(_ line: UnsafeBufferPointer<UInt8>) -> LogFormat? {
        var start = 0
        if Bytes.hasPrefix(line, "\u{FEFF}") { start = 3 }
        start = Bytes.skipSpaces(line, from: start)
        guard start < line.count else { return nil }
        switch line[start] {
        case UInt8(ascii: "="):
            // "=== Verbose logging started: …" / "=== Logging started: …" (localized: "=== Protokollierung gestartet").
            if Bytes.hasPrefix(line, "=== ", at: start), Bytes.find("stop", in: line, ignoringCase: true) == nil,
                Bytes.find("beendet", in: line, ignoringCase: true) == nil,
                Bytes.find(": ", in: line, from: start) != nil
            {
                return .msiVerbose
            }
        case UInt8(ascii: "<"):
            if Bytes.hasPrefix(line, "<?xml", at: start, ignoringCase: true) {
                // An XHTML document declares XML too: look for html on the same line.
                return Bytes.find("<html", in: line, ignoringCase: true) != nil ? .deploymentHTML : .lcscmdXML
            }
            if Bytes.hasPrefix(line, "<!DOCTYPE html", at: start, ignoringCase: true)
                || Bytes.hasPrefix(line, "<html", at: start, ignoringCase: true)
            {
                return .deploymentHTML
            }
        case UInt8(ascii: "E"):
            if Bytes.hasPrefix(line, "Event[0]:", at: start) { return .eventText }
        case UInt8(ascii: "L"), UInt8(ascii: "\""):
            // Event Viewer's CSV header: Level,Date and Time,Source,Event ID,Task Category
            if Bytes.find("Event ID", in: line, ignoringCase: true) != nil,
                Bytes.find("Source", in: line, ignoringCase: true) != nil,
                Bytes.find(",", in: line) != nil
            {
                return .eventCSV
            }
        default:
            break
        }
        return nil
    }

    /// The format of an input whose first non-blank line is no log header.
    static func guess(_ line: UnsafeBufferPointer<UInt8>) -> LogFormat {
        // An MSI log, or an excerpt of one without its header: its line shapes.
        for prefix: StaticString in [
            "MSI (", "Action start ", "Action ended ", "Property(", "CustomAction ", "Aktion gestartet",
            "Aktion beendet",
            "Eigenschaft(", "Action démarrée", "Action terminée", "Propriété(",
        ] where Bytes.hasPrefix(line, prefix) {
            return .msiVerbose
        }
        if line.first == UInt8(ascii: "<") {
            for marker: StaticString in ["<html", "<body", "<div", "<table", "<head", "<p>", "<ul", "<span"]
            where Bytes.find(marker, in: line, ignoringCase: true) != nil {
                return .deploymentHTML
            }
            return .lcscmdXML
        }
        if Bytes.hasPrefix(line, "Log Name:") || Bytes.hasPrefix(line, "Event[") { return .eventText }
        return .plainText
    }
}

extension InputFile {
    /// Reads and parses the whole input, calling `body` with every record draft.
    /// `onLine` sees each line (decoded to UTF-8) before the records it belongs to.
    public func parse(
        options: ReadOptions = ReadOptions(), formatHint: LogFormat? = nil, onLine: ((Line) -> Void)? = nil,
        _ body: (RecordDraft) throws -> Void
    ) throws -> InputSummary {
        var stream = LogStream(path: path, formatHint: formatHint, vocabulary: options.vocabulary)
        var summary = try read(options: options) { line in
            onLine?(line)
            try stream.parse(line, body)
        }
        try stream.finish(body)
        summary.format = stream.format
        summary.formats = stream.formats
        summary.logs = stream.logCount
        summary.skipped.endedInsideRecord = stream.endedInsideRecord
        return summary
    }
}
