import Knowledge
import ScanModel

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

    /// The parser of the current log, held by reference: each line mutates it in place (a payload
    /// taken out of the enum and put back copied the parser, a retain and a release per field, on
    /// every line).
    private enum Parser {
        case msi(Held<MSIParser>)
        case markup(Held<MarkupParser>)
        case event(Held<EventParser>)
        case firewall(Held<FirewallRecordParser>)
        case plain
    }

    private final class Held<Value> {
        var value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Lines read without making their records (see ``parse(_:_:onLogStart:ignorable:)``).
    public private(set) var quietLines = 0

    /// The numbers that keep a line's record from being skipped (``ReadOptions/loudNumbers``).
    public var loudNumbers: [ClosedRange<Int>] = []

    /// The deepest markup nesting tracked (deeper elements are counted, not kept): contexts stay short.
    public static let maximumNesting = MarkupParser.maximumDepth

    /// The words of named fields, for the markup parser's tables and XML fields.
    public let vocabulary: FieldNames?

    /// The words of the firewall's own record (netsh labels and values).
    public let firewallWords: FirewallWords

    public init(
        path: String, formatHint: LogFormat? = nil, vocabulary: FieldVocabulary? = nil,
        firewall: FirewallVocabulary? = nil
    ) {
        self.path = path
        self.formatHint = formatHint
        self.vocabulary = vocabulary.map(FieldNames.init)
        self.firewallWords = FirewallWords(firewall ?? FirewallVocabulary())
    }

    /// The format of the first log, or plain text when the input was empty.
    public var format: LogFormat { formats.first ?? formatHint ?? .plainText }

    /// Parses one line, emitting zero or more records; `onLogStart` hears where each log begins,
    /// after the records of the log before it were emitted.
    ///
    /// `ignorable` holds the record kinds (``RecordKind/bit``) whose record of this line the caller
    /// would do nothing with: a parser that can tell, without making it, that the line gives only
    /// such a record and changes nothing it keeps, reads it without making it (skip, don't parse).
    public mutating func parse(
        _ line: Line, _ emit: (RecordDraft) throws -> Void, onLogStart: (LogStart) throws -> Void,
        ignorable: UInt32 = 0
    ) rethrows {
        if formatHint == nil, !sawContent, currentFormat == .lcscmdXML, logStart(line.buffer) == .eventXML {
            // "<?xml …?>" then "<Events>": an event export, not an LCSCmd log.
            switchFormat(to: .eventXML)
        } else if formatHint == nil, let starting = logStart(line.buffer), !(starting == currentFormat && !sawContent) {
            // A new log begins here: a second MSI header, a new HTML or XML document, an export header.
            // ("<!DOCTYPE html>" then "<html>" is one document: nothing was read between them.)
            try begin(starting, at: line, announced: true, newFile: startPending, emit, onLogStart)
        } else if parser == nil || startPending {
            let trimmed = Bytes.trimmed(line.buffer)
            if trimmed.isEmpty { return }  // leading blank lines decide nothing
            try begin(
                formatHint ?? guessFormat(trimmed), at: line, announced: startPending, newFile: startPending, emit,
                onLogStart)
        } else if formatHint == nil, firewallBetweenRecords, let current = currentFormat,
            FirewallRecordParser.endsBefore(line.buffer, format: current)
        {
            // A registry export ends where its lines stop being keys and values: the next log begins.
            try begin(
                guessFormat(Bytes.trimmed(line.buffer)), at: line, announced: false, newFile: false, emit, onLogStart)
        } else if formatHint == nil, hasEnded, let current = currentFormat {
            // After a log's end (`</html>`, the XML root's end tag, "Logging stopped", a transcript's
            // footer) text of another shape begins the next log, header or not. A ruler ("****")
            // decides nothing; MSI lines after "Logging stopped" and markup after a closed document
            // are still the same log's (a malformed XML log has several roots).
            let trimmed = Bytes.trimmed(line.buffer)
            // (An MSI log's own closing lines — "=== Verbose logging stopped: … ===" — come after it too.)
            let msiClosing = current == .msiVerbose && Bytes.hasPrefix(trimmed, "=== ")
            if !trimmed.isEmpty, !Self.isRuler(trimmed), !msiClosing {
                let guessed = guessFormat(trimmed)
                // (netsh output ends with "Ok.": another output of the same command is another log.)
                if guessed != current || current == .plainText || current == .netshAdvfirewall
                    || current == .netshFirewall
                {
                    try begin(guessed, at: line, announced: false, newFile: false, emit, onLogStart)
                }
            }
        } else if formatHint == nil, case .plain = parser, linesInLog < Self.fragmentWindow {
            // A fragment pasted with a line of text before it ("Here is the log:"): the first lines
            // with a shape of their own decide, without a header.
            let trimmed = Bytes.trimmed(line.buffer)
            let guessed = trimmed.isEmpty ? .plainText : guessFormat(trimmed)
            if guessed == .msiVerbose || guessed == .deploymentHTML || guessed == .netshAdvfirewall
                || guessed == .netshFirewall
            {
                if !block.isEmpty { try block.flush(path: path, vocabulary: vocabulary, emit) }
                switchFormat(to: guessed)
            }
        } else if formatHint == nil, case .plain = parser, Self.isMSIEngineLine(line.buffer) {
            // Past its first lines, a plain-text log does not turn into an MSI log: Windows Installer's
            // own lines ("MSI (s) (1C:F4) [15:40:02:118]: …") begin one of their own (an MSI excerpt
            // after a text log in a pipe; a few MSI lines quoted in a note are read as what they are).
            try begin(.msiVerbose, at: line, announced: false, newFile: false, emit, onLogStart)
        }
        linesInLog += 1
        if !sawContent {
            let trimmed = Bytes.trimmed(line.buffer)
            // (A DOCTYPE, a comment or a processing instruction is no content: the root element decides.)
            let declaration =
                Bytes.hasPrefix(trimmed, "<!") || Bytes.hasPrefix(trimmed, "<?")
            if !trimmed.isEmpty, !Self.isRuler(trimmed), !declaration, logStart(line.buffer) == nil {
                sawContent = true
            }
        }
        switch parser {
        case .msi(let msi):
            if ignorable != 0, msi.value.skipQuiet(line, ignorable: ignorable) {
                quietLines += 1
                return
            }
            try msi.value.parse(line, emit)
            hasEnded = msi.value.hasEnded
        case .markup(let markup):
            try markup.value.parse(line, emit)
            hasEnded = markup.value.hasEnded
        case .event(let event):
            try event.value.parse(line, emit)
            noteCut(event.value.takeCut())
        case .firewall(let record):
            try record.value.parse(line, emit)
            hasEnded = record.value.hasEnded
            firewallBetweenRecords = record.value.isBetweenRecords
        case .plain:
            // A transcript's footer ("Windows PowerShell transcript end", "End time: …") closes with a ruler.
            if let vocabulary, vocabulary.endsLog(line.buffer) {
                plainEnding = true
            } else if plainEnding, Self.isRuler(Bytes.trimmed(line.buffer)) {
                hasEnded = true
            }
            // "Key: value" lines are held as a block (netsh rule listings, transcripts); others go out now.
            if vocabulary != nil {
                if block.take(line) {
                    if block.isFull { try block.flush(path: path, vocabulary: vocabulary, emit) }
                    return
                }
                if !block.isEmpty { try block.flush(path: path, vocabulary: vocabulary, emit) }
            }
            let bytes = line.buffer
            try emit(
                RecordDraft(
                    bytes: bytes, path: path, line: line.number, byteOffset: line.byteOffset, format: .plainText,
                    kind: .text, context: [], clock: nil, inRollback: false, outcome: nil, number: nil, event: nil))
        case nil:
            break
        }
    }

    /// Completes the records still open — a text run, a `Key: value` block, an exported event —
    /// when a live input has been quiet: what was written so far is reported now, not at the end.
    public mutating func flushIdle(_ emit: (RecordDraft) throws -> Void) rethrows {
        if !block.isEmpty { try block.flush(path: path, vocabulary: vocabulary, emit) }
        switch parser {
        case .markup(let markup): try markup.value.flushPending(emit)
        case .event(let event): try event.value.flushPending(emit)
        default:
            break
        }
    }

    /// Parses one line, emitting zero or more records.
    public mutating func parse(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        try parse(line, emit, onLogStart: { _ in })
    }

    /// Whether the current log has ended (its document closed, "Logging stopped", a transcript's
    /// footer): noted after each line from the parser that read it (asking the parser on every line
    /// would copy it).
    private var hasEnded = false

    /// Whether the current log is a `Get-WinEvent | Format-List` export (its records all begin with TimeCreated).
    private var currentIsList = false

    /// Whether the current log is a firewall record between two records (where a line of another
    /// shape ends it): a copy of its parser's state, looked at for every line.
    private var firewallBetweenRecords = false

    /// Whether a plain-text log said it ends (a transcript's footer began; its closing ruler ends it).
    private var plainEnding = false
    /// Whether the next line begins a new log whatever it holds (the reader switched encoding there).
    private var startPending = false

    /// Tells the stream that a new log begins at the next line it parses: the reader met a
    /// byte-order mark or another encoding there, which only a new file brings.
    public mutating func nextLineStartsLog() { startPending = true }

    /// Whether a line is one Windows Installer writes itself: `MSI (s) (1C:F4) [15:40:02:118]: …`
    /// (server or client side, process and thread ids, a time stamp).
    static func isMSIEngineLine(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard line.count > 16, Bytes.hasPrefix(line, "MSI ("), line[6] == UInt8(ascii: ")"),
            line[5] == UInt8(ascii: "s") || line[5] == UInt8(ascii: "c"), line[7] == UInt8(ascii: " "),
            line[8] == UInt8(ascii: "(")
        else { return false }
        return Bytes.find("]: ", in: line) != nil
    }

    /// A line of one repeated mark ("*****", "=====", "-----"): a ruler, which belongs to no log in particular.
    static func isRuler(_ trimmed: UnsafeBufferPointer<UInt8>) -> Bool {
        guard trimmed.count >= 3, let first = trimmed.first,
            [UInt8(ascii: "*"), UInt8(ascii: "="), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "#")].contains(
                first)
        else { return false }
        return trimmed.allSatisfy { $0 == first || $0 == UInt8(ascii: " ") }
    }

    /// The format of a log that starts at this line: a header of a format, or a line that begins a
    /// plain-text log (a transcript's header, from the vocabulary).
    private func logStart(_ line: UnsafeBufferPointer<UInt8>) -> LogFormat? {
        if let format = Self.logStart(line) { return format }
        // `Get-WinEvent | Format-List`: every record starts with TimeCreated; the first begins the
        // export (after anything but another Format-List export's record).
        if !currentIsList, line.first == UInt8(ascii: "T"), EventParser.isListRecordStart(line) {
            return .eventText
        }
        // An XML event export after a log of another kind (an LCSCmd log's elements are its own).
        if currentFormat != .eventXML, currentFormat != .lcscmdXML, line.first == UInt8(ascii: "<"),
            Self.isEventElement(line)
        {
            return .eventXML
        }
        // (A transcript's header is a short line that starts with a letter: most lines are not looked up.)
        if line.count <= 80, let first = line.first, Bytes.isLetter(first) || first == 0x20 || first >= 0x80,
            let vocabulary, vocabulary.startsLog(line)
        {
            return .plainText
        }
        // A byte-order mark at a line's start is a file's first bytes: concatenated files, whatever follows.
        if Bytes.hasPrefix(line, "\u{FEFF}") {
            let rest = Bytes.trimmed(UnsafeBufferPointer(rebasing: line[3...]))
            return rest.isEmpty ? nil : Self.guess(rest)
        }
        return nil
    }

    /// Records the parsers cut at their size limits, and the bytes dropped, in this input.
    public private(set) var cut = (records: 0, bytes: 0)

    private mutating func noteCut(_ taken: (records: Int, bytes: Int)) {
        cut.records += taken.records
        cut.bytes += taken.bytes
    }

    /// Whether the input ended inside a record (set by ``finish(_:)``; a new log resets it).
    public private(set) var endedInsideRecord = false

    /// Flushes records still pending at the end of the input.
    public mutating func finish(_ emit: (RecordDraft) throws -> Void) rethrows {
        if !block.isEmpty { try block.flush(path: path, vocabulary: vocabulary, emit) }
        switch parser {
        case .markup(let markup): endedInsideRecord = markup.value.isInsideRecord
        case .event(let event): endedInsideRecord = event.value.isInsideRecord
        case .msi(let msi): endedInsideRecord = msi.value.isInsideRecord
        case .firewall(let record): endedInsideRecord = record.value.isInsideRecord
        default: endedInsideRecord = false
        }
        switch parser {
        case .markup(let markup): try markup.value.finish(emit)
        case .event(let event):
            try event.value.finish(emit)
            noteCut(event.value.takeCut())
        case .firewall(let record): try record.value.finish(emit)
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
        firewallBetweenRecords = format == .registryExport || format == .eventXML
    }

    /// A new parser for a format.
    private func makeParser(_ format: LogFormat) -> Parser {
        switch format {
        case .msiVerbose: .msi(Held(MSIParser(path: path, loudNumbers: loudNumbers)))
        case .deploymentHTML, .lcscmdXML:
            .markup(Held(MarkupParser(path: path, format: format, vocabulary: vocabulary)))
        case .eventText, .eventCSV: .event(Held(EventParser(path: path, format: format)))
        case .registryExport, .netshAdvfirewall, .netshFirewall, .eventXML:
            .firewall(Held(FirewallRecordParser(path: path, format: format, words: firewallWords)))
        case .plainText: .plain
        }
    }

    private mutating func begin(
        _ format: LogFormat, at line: Line, announced: Bool, newFile: Bool, _ emit: (RecordDraft) throws -> Void,
        _ onLogStart: (LogStart) throws -> Void
    ) rethrows {
        try finish(emit)
        currentIsList = format == .eventText && EventParser.isListRecordStart(line.buffer)
        startPending = false
        let previousEndedInsideRecord = logCount > 0 && endedInsideRecord
        linesInLog = 0
        hasEnded = false
        plainEnding = false
        firewallBetweenRecords = format == .registryExport || format == .eventXML
        if !formats.contains(format) { formats.append(format) }
        currentFormat = format
        logCount += 1
        sawContent = false
        parser = makeParser(format)
        try onLogStart(
            LogStart(
                index: logCount, format: format, line: line.number, byteOffset: line.byteOffset, announced: announced,
                newFile: newFile, previousEndedInsideRecord: previousEndedInsideRecord, recordsCutBefore: cut.records,
                recordBytesCutBefore: cut.bytes))
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
            // "=== Verbose logging started: 3/2/2010 …" / "=== Logging started: …" (localized:
            // "=== Protokollierung gestartet: 08.03.2010 …"): a date follows the colon ("=== Step 1:
            // install …" in a script's output is no MSI header).
            if Bytes.hasPrefix(line, "=== ", at: start), Bytes.find("stop", in: line, ignoringCase: true) == nil,
                Bytes.find("beendet", in: line, ignoringCase: true) == nil,
                let colon = Bytes.find(": ", in: line, from: start)
            {
                let date = Bytes.skipSpaces(line, from: colon + 2)
                if date < line.count, Bytes.isDigit(line[date]) { return .msiVerbose }
            }
        case UInt8(ascii: "<"):
            if Bytes.hasPrefix(line, "<?xml", at: start, ignoringCase: true) {
                // An XHTML document declares XML too: look for html on the same line (and an event export for events).
                if Bytes.find("<Event", in: line) != nil { return .eventXML }
                return Bytes.find("<html", in: line, ignoringCase: true) != nil ? .deploymentHTML : .lcscmdXML
            }
            if Bytes.hasPrefix(line, "<Events>", at: start) { return .eventXML }
            if Bytes.hasPrefix(line, "<!DOCTYPE html", at: start, ignoringCase: true)
                || Bytes.hasPrefix(line, "<html", at: start, ignoringCase: true)
            {
                return .deploymentHTML
            }
        case UInt8(ascii: "E"):
            if Bytes.hasPrefix(line, "Event[0]:", at: start) { return .eventText }
        case UInt8(ascii: "W"), UInt8(ascii: "R"):
            // regedit's and reg export's first line.
            if Bytes.hasPrefix(line, "Windows Registry Editor Version", at: start)
                || Bytes.hasPrefix(line, "REGEDIT4", at: start)
            {
                return .registryExport
            }
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

    /// `<Event xmlns=…>` or `<Event>`: an event of an XML export.
    static func isEventElement(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Bytes.skipSpaces(line, from: 0)
        return Bytes.hasPrefix(line, "<Event xmlns", at: start) || Bytes.hasPrefix(line, "<Event>", at: start)
    }

    /// The format of a log whose first non-blank line is no log header: the firewall's netsh output
    /// by its labels and headings (words of the knowledge), else by shape.
    func guessFormat(_ line: UnsafeBufferPointer<UInt8>) -> LogFormat {
        // `reg query HKLM\…\FirewallPolicy\FirewallRules`: the key, bare, on the first line.
        if Bytes.hasPrefix(line, "HKEY_LOCAL_MACHINE\\"),
            Bytes.find("FirewallPolicy", in: line, ignoringCase: true) != nil
        {
            return .registryExport
        }
        if firewallWords.startsRuleBlock(line) { return .netshAdvfirewall }
        if firewallWords.startsConfig(line) { return .netshFirewall }
        return Self.guess(line)
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
            if isEventElement(line) { return .eventXML }
            for marker: StaticString in ["<html", "<body", "<div", "<table", "<head", "<p>", "<ul", "<span"]
            where Bytes.find(marker, in: line, ignoringCase: true) != nil {
                return .deploymentHTML
            }
            return .lcscmdXML
        }
        if Bytes.hasPrefix(line, "Log Name:") || Bytes.hasPrefix(line, "Event[") || EventParser.isListRecordStart(line)
        {
            return .eventText
        }
        return .plainText
    }
}

/// Where a log begins in an input (several logs concatenated in a pipe or a file each begin somewhere).
public struct LogStart: Sendable, Equatable {
    /// The log's number in its input, from 1.
    public var index: Int
    /// The format detected at its start (an excerpt may still turn out to be of another within its first lines).
    public var format: LogFormat
    /// The line it begins at, in the input's numbering.
    public var line: Int
    /// The offset of that line in the input as stored.
    public var byteOffset: Int
    /// Whether the log announced itself — a header of its format, a byte-order mark, another
    /// encoding — rather than being told apart by its shape after a log that ended (or being the
    /// input's first lines without a header). Only an unannounced log may be a preamble or a
    /// trailer of a few lines that belongs to its neighbour.
    public var announced: Bool
    /// Whether a new file begins here (a byte-order mark, another encoding, a followed file read
    /// anew): the text before it is another file's, never a preamble of this log.
    public var newFile: Bool
    /// Whether the log before this one ended inside a record (cut off before the next began).
    public var previousEndedInsideRecord: Bool
    /// The encoding the log is read in, and the reader's counts before its first line (set by ``InputFile/parse(options:formatHint:onLine:onLogStart:_:)``).
    public var encoding: TextEncoding?
    public var statistics = ReaderStatistics()
    /// Records the input's parsers had cut at their size limits before this log, and their bytes.
    public var recordsCutBefore = 0
    public var recordBytesCutBefore = 0
}

extension InputFile {
    /// Reads and parses the whole input, calling `body` with every record draft.
    /// `onLine` sees each line (decoded to UTF-8) before the records it belongs to, and answers with
    /// the record kinds it would ignore for that line (see ``LogStream/parse(_:_:onLogStart:ignorable:)``;
    /// 0 makes every record); `onLogStart`
    /// hears where each log of the input begins (with the encoding and the reader's counts there).
    public func parse(
        options: ReadOptions = ReadOptions(), formatHint: LogFormat? = nil, onLine: ((Line) -> UInt32)? = nil,
        onLogStart: ((LogStart) throws -> Void)? = nil, _ body: (RecordDraft) throws -> Void
    ) throws -> InputSummary {
        var stream = LogStream(
            path: path, formatHint: formatHint, vocabulary: options.vocabulary, firewall: options.firewall)
        stream.loudNumbers = options.loudNumbers
        var summary = try withLineReader(options: options) { reader in
            // The reader's counts before the current line: a log's counts begin with its first line.
            var before = ReaderStatistics()
            reader.idleTimeout = options.idleTimeout
            // Made once, not per line.
            let logStarted: (LogStart) throws -> Void = { start in
                guard let onLogStart else { return }
                var start = start
                start.encoding = reader.encodings.last ?? reader.detection?.encoding
                start.statistics = before
                try onLogStart(start)
            }
            try reader.forEachLine(
                { line in
                    let now = reader.statistics
                    if now.encodingChanges != before.encodingChanges || now.fileStarts != before.fileStarts {
                        // Concatenated files: a byte-order mark or another encoding (UTF-16 after UTF-8) begins this line.
                        stream.nextLineStartsLog()
                    }
                    let ignorable = onLine?(line) ?? 0
                    try stream.parse(line, body, onLogStart: logStarted, ignorable: ignorable)
                    before = now  // the reader counts a line before handing it out
                },
                onIdle: { try stream.flushIdle(body) })
            return InputSummary(
                path: path, detection: reader.detection, statistics: reader.statistics, encodings: reader.encodings)
        }
        try stream.finish(body)
        summary.format = stream.format
        summary.formats = stream.formats
        summary.logs = stream.logCount
        summary.quietLines = stream.quietLines
        summary.skipped.endedInsideRecord = stream.endedInsideRecord
        if stream.cut.records > 0 {
            summary.skipped.recordsCut = stream.cut.records
            summary.skipped.recordBytesCut = stream.cut.bytes
        }
        return summary
    }
}
