/// Parses event-log exports: the text form (`wevtutil qe /f:text`: `Event[0]:` then `Key: value`
/// lines and a `Description:` block) and Event Viewer's CSV (`Level,Date and Time,Source,Event ID,…`).
/// One record per event, at the line where the event starts.
struct EventParser {
    let path: String
    let format: LogFormat

    private var fields: [String: String] = [:]
    private var message: [String] = []
    private var inDescription = false
    private var startLine = 0
    private var startOffset = 0
    private var hasEvent = false

    // CSV state.
    private var columns: [String: Int] = [:]
    private var pendingRow = ""
    private var pendingQuotes = 0

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

    mutating func finish(_ emit: (RecordDraft) throws -> Void) rethrows {
        if format == .eventCSV {
            if !pendingRow.isEmpty { try emitRow(pendingRow, emit) }
            pendingRow = ""
        } else {
            try emitEvent(emit)
        }
    }

    // MARK: - Text exports

    private mutating func parseText(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        let text = Bytes.string(Bytes.trimmed(line.bytes))
        let startsEvent =
            (text.hasPrefix("Event[") && text.hasSuffix("]:"))
            || (text.hasPrefix("Log Name:") && hasEvent && fields["log name"] != nil)
            || (text.hasPrefix("Log Name:") && !hasEvent)
        if startsEvent {
            try emitEvent(emit)
            hasEvent = true
            startLine = line.number
            startOffset = line.byteOffset
        }
        guard hasEvent else { return }
        if inDescription {
            if !text.isEmpty { message.append(text) }
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let key = text[..<colon].trimmingSpaces().lowercased()
        let value = text[text.index(after: colon)...].description.trimmingSpaces()
        if key == "description" || key == "message" {
            inDescription = true
            if !value.isEmpty { message.append(value) }
        } else if !key.isEmpty, key.count <= 24 {
            fields[key] = value
        }
    }

    private mutating func emitEvent(_ emit: (RecordDraft) throws -> Void) rethrows {
        guard hasEvent else { return }
        let event = EventInfo(
            source: fields["source"] ?? fields["provider name"] ?? "",
            eventID: (fields["event id"] ?? fields["eventid"]).flatMap { Int($0.trimmingSpaces()) },
            level: fields["level"] ?? "", time: fields["date"] ?? fields["time created"] ?? "")
        let text = message.joined(separator: " ")
        try emitRecord(text: text, event: event, line: startLine, offset: startOffset, emit)
        fields.removeAll(keepingCapacity: true)
        message.removeAll(keepingCapacity: true)
        inDescription = false
        hasEvent = false
    }

    private func emitRecord(
        text: String, event: EventInfo, line: Int, offset: Int, _ emit: (RecordDraft) throws -> Void
    ) rethrows {
        let level = event.level.lowercased()
        let outcome: Outcome? =
            level.hasPrefix("error") || level.hasPrefix("critical") || level.hasPrefix("fehler")
            ? .failure(code: event.eventID.map(String.init)) : nil
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBufferPointer { buffer in
            try emit(
                RecordDraft(
                    bytes: UnsafeBufferPointer(buffer), path: path, line: line, byteOffset: offset, format: format,
                    kind: .event, context: event.source.isEmpty ? [] : [event.source], clock: nil, inRollback: false,
                    outcome: outcome, number: event.eventID, event: event))
        }
    }

    // MARK: - CSV exports

    private mutating func parseCSV(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        var text = Bytes.string(line.bytes)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        if columns.isEmpty {
            let names = Self.splitCSV(text).map { $0.lowercased().trimmingSpaces() }
            for (index, name) in names.enumerated() { columns[name] = index }
            return
        }
        if pendingRow.isEmpty {
            startLine = line.number
            startOffset = line.byteOffset
            pendingRow = text
        } else {
            pendingRow += "\n" + text
        }
        pendingQuotes += text.utf8.reduce(0) { $0 + ($1 == 0x22 ? 1 : 0) }
        // A quoted field may hold line breaks: the row ends when the quotes balance.
        guard pendingQuotes % 2 == 0 else { return }
        try emitRow(pendingRow, emit)
        pendingRow = ""
        pendingQuotes = 0
    }

    private func emitRow(_ row: String, _ emit: (RecordDraft) throws -> Void) rethrows {
        let cells = Self.splitCSV(row)
        func cell(_ names: String...) -> String? {
            for name in names { if let index = columns[name], index < cells.count { return cells[index] } }
            return nil
        }
        let level = cell("level", "ebene", "type") ?? cells.first ?? ""
        let time = cell("date and time", "datum und uhrzeit", "date", "time") ?? ""
        let source = cell("source", "quelle") ?? ""
        let id = cell("event id", "ereignis-id", "eventid").flatMap { Int($0.trimmingSpaces()) }
        // The message is the column named so, or the last column.
        let message =
            cell("message", "description", "beschreibung", "general") ?? (cells.count > 5 ? cells[cells.count - 1] : "")
        let event = EventInfo(source: source, eventID: id, level: level, time: time)
        let flattened = message.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces() }.joined(separator: " ")
        try emitRecord(text: flattened, event: event, line: startLine, offset: startOffset, emit)
    }

    /// Splits one CSV row: commas separate cells; double quotes quote; `""` is a quote.
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

extension Substring {
    func trimmingSpaces() -> String { String(self).trimmingSpaces() }
}
