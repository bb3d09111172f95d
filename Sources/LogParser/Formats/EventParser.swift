import Knowledge
import ScanModel

/// Parses event-log exports: the text form (`wevtutil qe /f:text`: `Event[0]:` then `Key: value`
/// lines and a `Description:` block; PowerShell's `Get-WinEvent | Format-List`: `TimeCreated :`,
/// `ProviderName :`, `Id :`, `LevelDisplayName :`, an indented `Message :` and `MachineName :`) and
/// Event Viewer's CSV (`Level,Date and Time,Source,Event ID,…`).
/// One record per event, at the line where the event starts.
struct EventParser {
    let path: String
    let format: LogFormat

    /// The fields of a text export's event that ocslog reads (the others are skipped unread).
    private struct TextFields {
        var logName: String?
        var source: String?
        var providerName: String?
        var eventID: String?
        var level: String?
        var date: String?
        var timeCreated: String?
        var computer: String?
    }

    private var fields = TextFields()
    /// The description's lines, joined by single spaces.
    private var message: [UInt8] = []
    private var inDescription = false
    /// Whether this event's description reached its limit.
    private var messageCut = false
    private var startLine = 0
    private var startOffset = 0
    private var hasEvent = false
    /// Whether the event is a `Format-List` record: its message's lines are indented, and a key at
    /// the line's start ends it (`MachineName :` follows `Message :`).
    private var isList = false

    // CSV state.
    private var columns: [String: Int] = [:]
    private var columnIndexes = CSVColumns()
    private var pendingRow: [UInt8] = []
    private var pendingQuotes = 0
    /// Where each line of the pending row begins in it, with its line number and input offset.
    private var pendingLines: [(start: Int, line: Int, offset: Int)] = []
    private var cells: [Range<Int>] = []
    private var cellBytes: [UInt8] = []
    private var flattened: [UInt8] = []
    private var lastSource = ""
    private var lastContext: [String] = []

    init(path: String, format: LogFormat) {
        self.path = path
        self.format = format
    }

    mutating func parse(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        if format == .eventCSV {
            try parseCSV(line, emit)
        } else {
            try parseText(line, emit)
        }
    }

    /// Completes the event being read (a live export went quiet); a CSV row still inside quotes waits.
    mutating func flushPending(_ emit: (RecordDraft) throws -> Void) rethrows {
        if format != .eventCSV { try emitEvent(emit) }
    }

    /// The most a description holds, and the most a CSV row held open by a quote gathers: beyond
    /// them a description is cut (counted with its bytes), and a quote that never closed is closed
    /// at its line, the lines it held read again as rows (counted as one record cut, 0 bytes lost).
    static let maximumMessageLength = 64 << 10
    static let maximumRowLength = 1 << 20
    /// Records cut or closed at those limits, and the bytes dropped, since last taken.
    private(set) var cut = (records: 0, bytes: 0)

    /// What was cut since the last call (the stream adds it to the input's skipped counts).
    mutating func takeCut() -> (records: Int, bytes: Int) {
        defer { cut = (0, 0) }
        return cut
    }

    /// Whether the export stopped inside a quoted CSV field.
    var isInsideRecord: Bool { format == .eventCSV && pendingQuotes % 2 == 1 }

    mutating func finish(_ emit: (RecordDraft) throws -> Void) rethrows {
        if format == .eventCSV {
            // A quote that never closed: its line is one row, and the lines it held are read again as rows.
            // (Once: the lines after the first hold balanced quotes, so none is left pending.)
            if isInsideRecord { try rereadUnbalancedRow(emit) }
            if !pendingRow.isEmpty { try emitPendingRow(emit) }
        } else {
            try emitEvent(emit)
        }
    }

    // MARK: - Text exports

    /// Reads one line of a text export on bytes: only the fields ocslog uses become strings, and
    /// the description's lines are gathered as bytes.
    private mutating func parseText(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        let text = Bytes.trimmed(line.buffer)
        let startsList = Self.isListRecordStart(line.buffer)
        let startsEvent =
            (Bytes.hasPrefix(text, "Event[") && text.count >= 8 && text[text.count - 2] == 0x5D
                && text[text.count - 1] == 0x3A)
            || (Bytes.hasPrefix(text, "Log Name:") && (!hasEvent || fields.logName != nil))
            || startsList
        if startsEvent {
            try emitEvent(emit)
            hasEvent = true
            isList = startsList
            startLine = line.number
            startOffset = line.byteOffset
        }
        guard hasEvent else { return }
        if inDescription {
            // A Format-List record's next key starts at the line's start; its message's lines are indented.
            let endsMessage =
                isList && line.buffer.first.map(Bytes.isLetter) == true && text.firstIndex(of: 0x3A) != nil
            if !endsMessage {
                appendMessage(text)
                return
            }
            inDescription = false
        }
        guard let colon = text.firstIndex(of: 0x3A) else { return }
        let key = Bytes.trimmed(UnsafeBufferPointer(rebasing: text[..<colon]))
        let value = Bytes.trimmed(UnsafeBufferPointer(rebasing: text[(colon + 1)...]))
        func keyIs(_ name: StaticString) -> Bool {
            key.count == name.utf8CodeUnitCount && Bytes.hasPrefix(key, name, ignoringCase: true)
        }
        if keyIs("description") || keyIs("message") {
            inDescription = true
            appendMessage(value)
        } else if keyIs("log name") {
            fields.logName = Bytes.string(value)
        } else if keyIs("source") {
            fields.source = Bytes.string(value)
        } else if keyIs("provider name") || keyIs("providername") {
            fields.providerName = Bytes.string(value)
        } else if keyIs("event id") || keyIs("eventid") || (isList && keyIs("id")) {
            fields.eventID = Bytes.string(value)
        } else if keyIs("level") || keyIs("leveldisplayname") {
            fields.level = Bytes.string(value)
        } else if keyIs("date") {
            fields.date = Bytes.string(value)
        } else if keyIs("time created") || keyIs("timecreated") {
            fields.timeCreated = Bytes.string(value)
        } else if keyIs("computer") || keyIs("machinename") || keyIs("machine name") {
            fields.computer = Bytes.string(value)
        }
    }

    /// Whether a line begins a `Get-WinEvent | Format-List` record: `TimeCreated` at the line's
    /// start, then spaces and a colon.
    static func isListRecordStart(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard Bytes.hasPrefix(line, "TimeCreated") else { return false }
        let after = Bytes.skipSpaces(line, from: 11)
        return after < line.count && line[after] == 0x3A
    }

    /// Adds a line of the description, separated from the last by one space.
    private mutating func appendMessage(_ text: UnsafeBufferPointer<UInt8>) {
        guard !text.isEmpty else { return }
        let separator = message.isEmpty ? 0 : 1
        let room = Self.maximumMessageLength - message.count - separator
        guard room >= text.count else {
            // Full: what does not fit is counted, not kept (once per description as a record).
            if !messageCut {
                messageCut = true
                cut.records += 1
            }
            if room > 0 {
                if separator == 1 { message.append(0x20) }
                message.append(contentsOf: UnsafeBufferPointer(rebasing: text[..<room]))
            }
            cut.bytes += text.count - max(room, 0)
            return
        }
        if separator == 1 { message.append(0x20) }
        message.append(contentsOf: text)
    }

    private mutating func emitEvent(_ emit: (RecordDraft) throws -> Void) rethrows {
        guard hasEvent else { return }
        let event = EventInfo(
            source: fields.source ?? fields.providerName ?? "",
            eventID: fields.eventID.flatMap { Int($0) },
            level: fields.level ?? "", time: fields.date ?? fields.timeCreated ?? "", computer: fields.computer)
        try emitRecord(
            bytes: message, event: event, context: event.source.isEmpty ? [] : [event.source],
            line: startLine, offset: startOffset, emit)
        fields = TextFields()
        message.removeAll(keepingCapacity: true)
        messageCut = false
        inDescription = false
        hasEvent = false
        isList = false
    }

    private func emitRecord(
        bytes: [UInt8], event: EventInfo, context: [String], line: Int, offset: Int,
        _ emit: (RecordDraft) throws -> Void
    ) rethrows {
        var levelText = event.level
        let failed = levelText.withUTF8 { level in
            Bytes.hasPrefix(level, "error", ignoringCase: true)
                || Bytes.hasPrefix(level, "critical", ignoringCase: true)
                || Bytes.hasPrefix(level, "fehler", ignoringCase: true)
        }
        let outcome: Outcome? = failed ? .failure(code: event.eventID.map(String.init)) : nil
        try bytes.withUnsafeBufferPointer { buffer in
            try emit(
                RecordDraft(
                    bytes: buffer, path: path, line: line, byteOffset: offset, format: format,
                    kind: .event, context: context, clock: nil, inRollback: false,
                    outcome: outcome, number: event.eventID, event: event))
        }
    }

    // MARK: - CSV exports

    private mutating func parseCSV(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        var bytes = line.buffer
        if Bytes.hasPrefix(bytes, "\u{FEFF}") { bytes = UnsafeBufferPointer(rebasing: bytes[3...]) }
        if columns.isEmpty {
            let names = Self.splitCSV(Bytes.string(bytes)).map { $0.lowercased().trimmingSpaces() }
            for (index, name) in names.enumerated() where columns[name] == nil { columns[name] = index }
            columnIndexes = CSVColumns(columns)
            return
        }
        try gather(bytes, line: line.number, offset: line.byteOffset, emit)
    }

    /// Adds a line to the row being gathered. A quoted field may hold line breaks: the row ends
    /// when the quotes balance. A quote still open past the limit never closes: its line is given
    /// out as a row of its own and the lines after it are read again as rows (nothing they state
    /// is lost, and memory stays bounded).
    private mutating func gather(
        _ bytes: UnsafeBufferPointer<UInt8>, line: Int, offset: Int, _ emit: (RecordDraft) throws -> Void
    ) rethrows {
        if pendingRow.isEmpty {
            startLine = line
            startOffset = offset
        } else {
            pendingRow.append(0x0A)
        }
        pendingLines.append((pendingRow.count, line, offset))
        pendingRow.append(contentsOf: bytes)
        for byte in bytes where byte == 0x22 { pendingQuotes += 1 }
        if pendingQuotes % 2 == 1 && pendingRow.count > Self.maximumRowLength {
            cut.records += 1
            try rereadUnbalancedRow(emit)
            return
        }
        guard pendingQuotes % 2 == 0 else { return }
        try emitPendingRow(emit)
    }

    /// Gives out the first line of a row whose quote never closed as a row of its own, and reads
    /// the lines after it again (they may gather a row of their own).
    private mutating func rereadUnbalancedRow(_ emit: (RecordDraft) throws -> Void) rethrows {
        let row = pendingRow
        let lines = pendingLines
        let firstEnd = lines.count > 1 ? lines[1].start - 1 : row.count
        pendingRow = Array(row[0..<firstEnd])
        pendingLines = [lines[0]]
        try emitPendingRow(emit)
        try row.withUnsafeBufferPointer { all in
            for (index, next) in lines.enumerated().dropFirst() {
                let end = index + 1 < lines.count ? lines[index + 1].start - 1 : all.count
                try gather(
                    UnsafeBufferPointer(rebasing: all[next.start..<end]), line: next.line, offset: next.offset, emit)
            }
        }
    }

    /// Emits the row gathered so far, read in place: cells are found on bytes, and only the level,
    /// time and source become strings (the message is handed on as bytes).
    private mutating func emitPendingRow(_ emit: (RecordDraft) throws -> Void) rethrows {
        defer {
            pendingRow.removeAll(keepingCapacity: true)
            pendingLines.removeAll(keepingCapacity: true)
            pendingQuotes = 0
        }
        cells.removeAll(keepingCapacity: true)
        cellBytes.removeAll(keepingCapacity: true)
        // Unquote into cellBytes; each cell is a range of it.
        var quoted = false
        var cellStart = 0
        var index = 0
        let row = pendingRow
        while index < row.count {
            let byte = row[index]
            if quoted {
                if byte == 0x22 {
                    if index + 1 < row.count, row[index + 1] == 0x22 {
                        cellBytes.append(0x22)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    cellBytes.append(byte)
                }
            } else if byte == 0x22 {
                quoted = true
            } else if byte == 0x2C {
                cells.append(cellStart..<cellBytes.count)
                cellStart = cellBytes.count
            } else {
                cellBytes.append(byte)
            }
            index += 1
        }
        cells.append(cellStart..<cellBytes.count)
        let columns = columnIndexes
        try cellBytes.withUnsafeBufferPointer { all in
            func cell(_ index: Int?) -> UnsafeBufferPointer<UInt8>? {
                guard let index, index < cells.count else { return nil }
                return Bytes.trimmed(UnsafeBufferPointer(rebasing: all[cells[index]]))
            }
            let level = cell(columns.level) ?? cell(0) ?? UnsafeBufferPointer(rebasing: all[0..<0])
            let source = cell(columns.source).map(Bytes.string) ?? ""
            let id = cell(columns.eventID).flatMap { Bytes.number($0, at: 0) }.map(\.value)
            let time = cell(columns.time).map(Bytes.string) ?? ""
            // The message is the column named so, or the last column; its lines are joined by spaces.
            let message = cell(columns.message) ?? (cells.count > 5 ? cell(cells.count - 1) : nil)
            flattened.removeAll(keepingCapacity: true)
            if let message {
                var pendingSpace = false
                for byte in message {
                    if byte == 0x0A || byte == 0x0D {
                        pendingSpace = !flattened.isEmpty
                        continue
                    }
                    if pendingSpace {
                        if byte == 0x20 || byte == 0x09 { continue }
                        flattened.append(0x20)
                        pendingSpace = false
                    }
                    flattened.append(byte)
                }
            }
            if lastSource != source {
                lastSource = source
                lastContext = source.isEmpty ? [] : [source]
            }
            let computer = cell(columns.computer).map(Bytes.string).flatMap { $0.isEmpty ? nil : $0 }
            let event = EventInfo(
                source: source, eventID: id, level: Bytes.string(level), time: time, computer: computer)
            try emitRecord(
                bytes: flattened, event: event, context: lastContext, line: startLine, offset: startOffset, emit)
        }
    }

    /// Splits one CSV row: commas separate cells; double quotes quote; `""` is a quote (the header row).
    static func splitCSV(_ row: String) -> [String] {
        var cells: [String] = []
        var current = ""
        var quoted = false
        var iterator = row.makeIterator()
        var lookahead: Character?
        while let character = lookahead ?? iterator.next() {
            lookahead = nil
            if quoted {
                if character == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        current.append("\"")
                    } else {
                        quoted = false
                        lookahead = next
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                cells.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        cells.append(current)
        return cells
    }
}

/// Where the columns ocslog reads are in an Event Viewer CSV export (English and German headers).
struct CSVColumns {
    var level: Int?
    var time: Int?
    var source: Int?
    var eventID: Int?
    var message: Int?
    var computer: Int?

    init(_ columns: [String: Int] = [:]) {
        func first(_ names: String...) -> Int? { names.lazy.compactMap { columns[$0] }.first }
        level = first("level", "ebene", "type")
        time = first("date and time", "datum und uhrzeit", "date", "time")
        source = first("source", "quelle")
        eventID = first("event id", "ereignis-id", "eventid")
        message = first("message", "description", "beschreibung", "general")
        computer = first("computer", "machinename", "computername", "computer name", "computer-name")
    }
}
