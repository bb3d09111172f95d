import Knowledge
/// Parses verbose Windows Installer logs line by line, on bytes.
///
/// It knows the line shapes of `../shared/reference/log-formats.md` §3 by their structure and
/// numbers, not their English words where a localized log would differ: an action line is
/// "label, time, colon, name, full stop"; a return value is the number that ends it; a summary's
/// status is the number after its last colon.
import ScanModel

struct MSIParser {
    let path: String
    /// The action stack: outermost first.
    private var actions: [String] = []
    private var date: LogClock?
    private var lastMilliseconds: Int?
    private var sawFirstFatal = false
    private var scratch: [UInt8] = []
    private var hasRecord = false
    private var sawLogEnd = false
    /// Whether the last record's context is the action stack as it stands: a quiet line would carry
    /// the context the analyzer already saw (false after an action ended or a log began afresh).
    private var contextSettled = false

    /// Numbers whose note is never skipped (``ReadOptions/loudNumbers``).
    let loudNumbers: [ClosedRange<Int>]

    init(path: String, loudNumbers: [ClosedRange<Int>] = []) {
        self.path = path
        self.loudNumbers = loudNumbers
    }

    /// Whether the log stopped with an action still running and no "Logging stopped" line (a cut log).
    var isInsideRecord: Bool { !actions.isEmpty && !sawLogEnd }

    /// Whether the log said "Logging stopped" (MSI lines may still follow it; other text begins another log).
    var hasEnded: Bool { sawLogEnd }

    /// The deepest action nesting kept (real logs nest three or four deep).
    static let maximumActionDepth = 32

    /// Words that make a property's value secret.
    static let secretWords: [StaticString] = ["PASSWORD", "PASSWD", "PWD", "SECRET", "KEY", "TOKEN", "CREDENTIAL"]

    mutating func parse(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        var bytes = line.buffer
        // A BOM at the start of a concatenated log.
        if Bytes.hasPrefix(bytes, "\u{FEFF}") { bytes = UnsafeBufferPointer(rebasing: bytes[3...]) }
        var kind = RecordKind.continuation
        var body = bytes
        var clock: LogClock?
        var outcome: Outcome?
        var number: Int?
        var masked = false

        if Bytes.hasPrefix(bytes, "=== ") {
            kind = parseHeader(bytes)
            clock = date
        } else {
            if Bytes.hasPrefix(bytes, "MSI (") {
                kind = .engine
                let (bodyStart, time) = parseEnginePrefix(bytes)
                body = UnsafeBufferPointer(rebasing: bytes[bodyStart...])
                if let time { clock = stamp(time) }
            }
            let shape = classifyBody(body)
            if let shape {
                kind = shape.kind
                outcome = shape.outcome
                number = shape.number
                if let time = shape.time, clock == nil { clock = stamp(time) }
                if kind == .property, let maskedRange = Self.secretValueRange(body) {
                    scratch.removeAll(keepingCapacity: true)
                    var offset = 0
                    if let bodyBase = body.baseAddress, let lineBase = bytes.baseAddress {
                        offset = lineBase.distance(to: bodyBase)
                    }
                    scratch.append(contentsOf: bytes[0..<(offset + maskedRange.lowerBound)])
                    scratch.append(contentsOf: "********".utf8)
                    scratch.append(contentsOf: bytes[(offset + maskedRange.upperBound)...])
                    masked = true
                }
            } else if kind == .continuation && !hasRecord {
                kind = .text
            }
        }

        // Context: an action start belongs to the action it starts; an end to the one it ends.
        // "Action 14:20:12: INSTALL." is followed by "Action start 14:20:12: INSTALL.": one action, pushed once.
        if kind == .actionStart, let name = actionName(body), actions.last != name {
            // Actions that start and never end (a cut or garbled log) must not grow the stack:
            // past the cap, the oldest inner action makes room (the outermost one stays).
            if actions.count >= Self.maximumActionDepth { actions.remove(at: 1) }
            actions.append(name)
        }
        let context = actions
        let inRollback = sawFirstFatal
        if kind == .actionEnd {
            if let name = actionName(body), let index = actions.lastIndex(of: name) {
                actions.removeSubrange(index...)
            }
            if number == 3 { sawFirstFatal = true }
        }
        if kind == .logStart {
            actions.removeAll()
            sawFirstFatal = false
            sawLogEnd = false
        }
        if kind == .logEnd { sawLogEnd = true }
        hasRecord = true
        contextSettled = context.count == actions.count
        let draftBytes = bytes
        if masked {
            try scratch.withUnsafeBufferPointer { maskedBytes in
                try emit(
                    RecordDraft(
                        bytes: maskedBytes, path: path, line: line.number, byteOffset: line.byteOffset,
                        format: .msiVerbose, kind: kind, context: context, clock: clock, inRollback: inRollback,
                        outcome: outcome, number: number, event: nil))
            }
        } else {
            try emit(
                RecordDraft(
                    bytes: draftBytes, path: path, line: line.number, byteOffset: line.byteOffset,
                    format: .msiVerbose, kind: kind, context: context, clock: clock, inRollback: inRollback,
                    outcome: outcome, number: number, event: nil))
        }
    }

    /// Reads a quiet line without making its record, when `ignorable` holds the record's kind (the
    /// analyzer would do nothing with it): an engine line whose text has no shape of its own
    /// (`MSI (s) (84:34) [12:12:03:391]: Doing action: …`), a property line, a note whose number is
    /// not loud. Its time still moves the clock, as ``parse(_:_:)`` would; nothing else changes.
    /// Returns false, having changed nothing, for any other line (actions, headers, free text, …).
    mutating func skipQuiet(_ line: Line, ignorable: UInt32) -> Bool {
        guard hasRecord, contextSettled else { return false }
        let bytes = line.buffer
        // (A byte-order mark or a header line is never quiet.)
        guard let first = bytes.first, first != 0xEF, first != UInt8(ascii: "=") else { return false }
        var body = bytes
        var time: Int?
        let isEngine = Bytes.hasPrefix(bytes, "MSI (")
        if isEngine {
            let (bodyStart, stated) = parseEnginePrefix(bytes)
            body = UnsafeBufferPointer(rebasing: bytes[bodyStart...])
            time = stated
        }
        let kind: RecordKind
        if let shape = classifyBody(body) {
            guard shape.kind == .property || shape.kind == .note, shape.time == nil else { return false }
            if let number = shape.number, loudNumbers.contains(where: { $0.contains(number) }) { return false }
            kind = shape.kind
        } else {
            guard isEngine else { return false }  // free text is structure: paragraphs, columns
            kind = .engine
        }
        guard ignorable & kind.bit != 0 else { return false }
        if let time { _ = stamp(time) }
        return true
    }

    // MARK: - Header

    /// `=== Verbose logging started: 11/16/2006  19:01:39  Build type: … ===` (or stopped).
    private mutating func parseHeader(_ bytes: UnsafeBufferPointer<UInt8>) -> RecordKind {
        let isEnd =
            Bytes.find("stop", in: bytes, ignoringCase: true) != nil
            || Bytes.find("beendet", in: bytes, ignoringCase: true) != nil
        guard !isEnd else { return .logEnd }
        // The first date-like token: three numbers joined by / . or -.
        var index = 4
        while index < bytes.count {
            if Bytes.isDigit(bytes[index]), let parsed = Self.parseDate(bytes, at: index) {
                var clock = parsed.date
                // The time of day that follows the date.
                let timeStart = Bytes.skipSpaces(bytes, from: parsed.end)
                if let time = Self.parseTime(bytes, at: timeStart) {
                    clock.milliseconds = time.milliseconds
                    lastMilliseconds = time.milliseconds
                }
                date = clock
                break
            }
            index += 1
        }
        return .logStart
    }

    /// A date as M/D/YYYY (US), D.M.YYYY or D-M-YYYY (most localized systems), or YYYY-M-D.
    static func parseDate(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> (date: LogClock, end: Int)? {
        guard let first = Bytes.number(bytes, at: offset), first.end < bytes.count else { return nil }
        let separator = bytes[first.end]
        guard separator == 0x2F || separator == 0x2E || separator == 0x2D,
            let second = Bytes.number(bytes, at: first.end + 1), second.end < bytes.count,
            bytes[second.end] == separator, let third = Bytes.number(bytes, at: second.end + 1)
        else { return nil }
        var year: Int
        var month: Int
        var day: Int
        if first.end - offset == 4 {
            (year, month, day) = (first.value, second.value, third.value)
        } else if separator == 0x2F {
            (month, day, year) = (first.value, second.value, third.value)
            if month > 12 { swap(&month, &day) }
        } else {
            (day, month, year) = (first.value, second.value, third.value)
            if month > 12 { swap(&month, &day) }
        }
        if year < 100 { year += 2000 }
        guard (1...12).contains(month), (1...31).contains(day), year > 1900 else { return nil }
        return (LogClock(year: year, month: month, day: day, milliseconds: 0), third.end)
    }

    /// `hh:mm:ss`, optionally followed by `:mmm` or `.mmm`.
    static func parseTime(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> (milliseconds: Int, end: Int)? {
        guard let hours = Bytes.number(bytes, at: offset), hours.end < bytes.count, bytes[hours.end] == 0x3A,
            let minutes = Bytes.number(bytes, at: hours.end + 1), minutes.end < bytes.count, bytes[minutes.end] == 0x3A,
            let seconds = Bytes.number(bytes, at: minutes.end + 1), hours.value < 24, minutes.value < 60,
            seconds.value < 62
        else { return nil }
        var total = ((hours.value * 60 + minutes.value) * 60 + seconds.value) * 1000
        var end = seconds.end
        if end + 1 < bytes.count, bytes[end] == 0x3A || bytes[end] == 0x2E,
            let fraction = Bytes.number(bytes, at: end + 1), fraction.end - end - 1 == 3
        {
            total += fraction.value
            end = fraction.end
        }
        return (total, end)
    }

    /// The clock for a time of day, carrying the header's date and rolling over at midnight.
    private mutating func stamp(_ milliseconds: Int) -> LogClock {
        var clock = date ?? LogClock(year: 0, month: 0, day: 0, milliseconds: 0)
        if let last = lastMilliseconds, milliseconds + 12 * 3_600_000 < last {
            clock = clock.nextDay()
        }
        clock.milliseconds = milliseconds
        lastMilliseconds = milliseconds
        if date != nil { date = clock }
        return clock
    }

    // MARK: - Engine lines

    /// `MSI (s) (84:34) [12:12:03:391]: ` or `MSI (s) (40:A4): `: where the text starts, and the time.
    private func parseEnginePrefix(_ bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int?) {
        var index = 5
        var time: Int?
        // Up to the first ": " after the last group.
        while index + 1 < bytes.count, index < 64 {
            if bytes[index] == 0x5B, let parsed = Self.parseTime(bytes, at: index + 1) {
                time = parsed.milliseconds
            }
            if bytes[index] == 0x3A, bytes[index + 1] == 0x20, index > 0,
                bytes[index - 1] == 0x29 || bytes[index - 1] == 0x5D
            {
                return (index + 2, time)
            }
            index += 1
        }
        return (min(bytes.count, 5), time)
    }

    struct Shape {
        var kind: RecordKind
        var outcome: Outcome?
        var number: Int?
        var time: Int?
    }

    /// What the text of a line is, from its shape.
    private func classifyBody(_ body: UnsafeBufferPointer<UInt8>) -> Shape? {
        guard !body.isEmpty else { return nil }
        if Self.isLocalizedProperty(body) { return Shape(kind: .property) }
        switch body[0] {
        case UInt8(ascii: "P"):
            if Bytes.hasPrefix(body, "Property(") { return Shape(kind: .property) }
            if Bytes.hasPrefix(body, "Product: ") { return productOutcome(body) }
            if Bytes.hasPrefix(body, "PROPERTY CHANGE") { return Shape(kind: .property) }
        case UInt8(ascii: "N"):
            if Bytes.hasPrefix(body, "Note: 1: ") {
                return Shape(kind: .note, number: Bytes.number(body, at: 9)?.value)
            }
        case UInt8(ascii: "E"), UInt8(ascii: "F"):
            // "Error 1920." and its localized forms ("Fehler 1722.", "Erreur 1603.", "Errore 1920."): a word,
            // a space, a four-digit code, a full stop — the shape, not the word.
            for word: StaticString in ["Error ", "Fehler ", "Erreur ", "Errore "] where Bytes.hasPrefix(body, word) {
                let start = word.utf8CodeUnitCount
                if let code = Bytes.number(body, at: start), code.end - start == 4, code.end < body.count,
                    body[code.end] == UInt8(ascii: ".")
                {
                    return Shape(kind: .shipError, outcome: .failure(code: String(code.value)), number: code.value)
                }
                if word.utf8CodeUnitCount == 6, let code = Bytes.number(body, at: 6) {
                    return Shape(kind: .shipError, outcome: .failure(code: String(code.value)), number: code.value)
                }
            }
        case UInt8(ascii: "C"):
            if Bytes.hasPrefix(body, "CustomAction "), let code = firstNumber(body, from: 13) {
                return Shape(
                    kind: .customActionResult, outcome: code == 0 ? .success : .failure(code: String(code)),
                    number: code)
            }
        case UInt8(ascii: "M"):
            if Bytes.hasPrefix(body, "MainEngineThread is returning "), let code = Bytes.number(body, at: 30) {
                return Shape(kind: .engineExit, outcome: Self.installerOutcome(code.value), number: code.value)
            }
        case UInt8(ascii: "W"):
            if Bytes.hasPrefix(body, "Windows Installer "), let status = trailingNumber(body) {
                return Shape(kind: .summary, outcome: Self.installerOutcome(status), number: status)
            }
        case UInt8(ascii: "D"):
            if Bytes.hasPrefix(body, "DEBUG: Error "), let code = Bytes.number(body, at: 13) {
                return Shape(kind: .shipError, outcome: .failure(code: String(code.value)), number: code.value)
            }
        default:
            break
        }
        if let action = actionShape(body) { return action }
        // Localized summary lines keep "Windows Installer" and end with the status number.
        if Bytes.find("Windows Installer", in: body) != nil, Bytes.find("Product", in: body) != nil,
            let status = trailingNumber(body)
        {
            return Shape(kind: .summary, outcome: Self.installerOutcome(status), number: status)
        }
        return nil
    }

    /// An action's return value: 0 not called, 1 success, 2 cancelled (1602), 3 fatal (1603),
    /// 4 suspended (1604), 5 success with the rest skipped, 6 invalid handle state, 7 invalid data,
    /// 8 another installation running (1618).
    static func returnValueOutcome(_ value: Int) -> Outcome {
        switch value {
        case 0, 1, 5: .success
        case 2: .failure(code: "1602")
        case 3: .failure(code: "1603")
        case 4: .failure(code: "1604")
        case 8: .failure(code: "1618")
        default: .failure(code: nil)
        }
    }

    /// Installer exit codes: 0 success, 1641 and 3010 success with restart, anything else failure.
    static func installerOutcome(_ code: Int) -> Outcome {
        [0, 1641, 3010, 1707].contains(code) ? .success : .failure(code: String(code))
    }

    /// `Product: Name -- Error 1926. …` / `-- Installation failed.` / `-- Installation completed successfully.`
    private func productOutcome(_ body: UnsafeBufferPointer<UInt8>) -> Shape {
        if let dashes = Bytes.find(" -- ", in: body) {
            let rest = dashes + 4
            if Bytes.hasPrefix(body, "Error ", at: rest), let code = Bytes.number(body, at: rest + 6) {
                return Shape(kind: .productOutcome, outcome: .failure(code: String(code.value)), number: code.value)
            }
            if Bytes.find("fail", in: body, from: rest, ignoringCase: true) != nil
                || Bytes.find("fehl", in: body, from: rest, ignoringCase: true) != nil
            {
                return Shape(kind: .productOutcome, outcome: .failure(code: nil))
            }
            if Bytes.find("success", in: body, from: rest, ignoringCase: true) != nil
                || Bytes.find("erfolgreich", in: body, from: rest, ignoringCase: true) != nil
            {
                return Shape(kind: .productOutcome, outcome: .success)
            }
        }
        return Shape(kind: .productOutcome)
    }

    /// An action line: a short label, a time `h:mm:ss`, a colon, the action name and a full stop,
    /// optionally followed by a return value (`… Return value 3.` or its translation).
    private func actionShape(_ body: UnsafeBufferPointer<UInt8>) -> Shape? {
        // The time must come within the first 40 bytes, after a label that has no digits.
        var index = 0
        while index < min(body.count, 48), !Bytes.isDigit(body[index]) {
            if body[index] == 0x3A || body[index] == 0x28 || body[index] == 0x5B || body[index] == 0x3D { return nil }
            index += 1
        }
        guard index > 0, index < body.count, body[index - 1] == 0x20,
            let time = Self.parseTime(body, at: index), time.end + 1 < body.count, body[time.end] == 0x3A,
            body[time.end + 1] == 0x20
        else { return nil }
        // The label begins with a letter: "Action start", "Aktion gestartet", "操作开始".
        guard body[0] >= 0x41 else { return nil }
        let nameStart = time.end + 2
        guard let nameEnd = nameEnd(body, from: nameStart), nameEnd > nameStart else { return nil }
        if let returnValue = trailingNumber(body, from: nameEnd) {
            let outcome = Self.returnValueOutcome(returnValue)
            return Shape(kind: .actionEnd, outcome: outcome, number: returnValue, time: time.milliseconds)
        }
        return Shape(kind: .actionStart, time: time.milliseconds)
    }

    /// The end of an action name: a full stop (ASCII or ideographic) followed by the end or a space.
    private func nameEnd(_ body: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        while index < body.count {
            let byte = body[index]
            if byte == 0x2E, index + 1 == body.count || body[index + 1] == 0x20 { return index }
            // "。" is E3 80 82.
            if byte == 0xE3, index + 2 < body.count, body[index + 1] == 0x80, body[index + 2] == 0x82 { return index }
            if byte == 0x20 { return nil }
            index += 1
        }
        return nil
    }

    /// The action name of an action start or end line.
    private func actionName(_ body: UnsafeBufferPointer<UInt8>) -> String? {
        var index = 0
        while index < body.count, !Bytes.isDigit(body[index]) { index += 1 }
        guard let time = Self.parseTime(body, at: index) else { return nil }
        let start = time.end + 2
        guard start < body.count, let end = nameEnd(body, from: start) else { return nil }
        return Bytes.string(body, start..<end)
    }

    /// The number that ends a line (before an optional full stop), searching from `from`.
    private func trailingNumber(_ body: UnsafeBufferPointer<UInt8>, from: Int = 0) -> Int? {
        var end = body.count
        while end > from, Bytes.isSpace(body[end - 1]) || body[end - 1] == 0x2E { end -= 1 }
        if end >= from + 3, body[end - 3] == 0xE3, body[end - 2] == 0x80, body[end - 1] == 0x82 { end -= 3 }
        var start = end
        while start > from, Bytes.isDigit(body[start - 1]) { start -= 1 }
        guard start < end, end - start <= 10 else { return nil }
        // It must stand alone: after a space or a colon.
        guard start > from, body[start - 1] == 0x20 || body[start - 1] == 0x3A else { return nil }
        return Bytes.number(body, at: start)?.value
    }

    /// The first decimal number at or after `from`.
    private func firstNumber(_ body: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var index = from
        // Skip the custom action's name.
        while index < body.count, body[index] != 0x20 { index += 1 }
        while index < body.count {
            if Bytes.isDigit(body[index]) { return Bytes.number(body, at: index)?.value }
            index += 1
        }
        return nil
    }

    // MARK: - Secrets

    /// `Eigenschaft(S): NAME = value`, `Propriété(C): …`: a property dump line in another language
    /// (one word, then `(S)`, `(C)` or `(N)` and a colon).
    static func isLocalizedProperty(_ body: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < body.count, index < 24,
            (body[index] >= 0x41 && Bytes.lower(body[index]) <= 0x7A && Bytes.lower(body[index]) >= 0x61)
                || body[index] >= 0x80
        {
            index += 1
        }
        guard index >= 3, index + 4 <= body.count, body[index] == 0x28, body[index + 2] == 0x29, body[index + 3] == 0x3A
        else { return false }
        return body[index + 1] == UInt8(ascii: "S") || body[index + 1] == UInt8(ascii: "C")
            || body[index + 1] == UInt8(ascii: "N")
    }

    /// The byte range of a property's value when its name looks secret.
    ///
    /// Shapes: `Property(S): NAME = value` and `PROPERTY CHANGE: Adding NAME property. Its value is 'value'.`
    /// / `Modifying NAME property. Its current value is 'old'. Its new value: 'new'.`
    static func secretValueRange(_ body: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        if Bytes.hasPrefix(body, "Property(") || isLocalizedProperty(body) {
            // The name starts after "): " and ends at " = " (which may not overlap it: "Property(S): = x").
            guard let close = Bytes.find("): ", in: body), let equals = Bytes.find(" = ", in: body, from: close + 3)
            else {
                return nil
            }
            let name = UnsafeBufferPointer(rebasing: body[(close + 3)..<equals])
            guard isSecretName(name), equals + 3 < body.count else { return nil }
            return (equals + 3)..<body.count
        }
        guard
            let nameStart = [
                Bytes.find("Adding ", in: body), Bytes.find("Modifying ", in: body), Bytes.find("Deleting ", in: body),
            ]
            .compactMap({ $0 }).first
        else { return nil }
        var start = nameStart
        while start < body.count, body[start] != 0x20 { start += 1 }
        start += 1
        var end = start
        while end < body.count, body[end] != 0x20 { end += 1 }
        guard start < end, isSecretName(UnsafeBufferPointer(rebasing: body[start..<end])) else { return nil }
        // Everything after the first quote is value text.
        guard let quote = body[end...].firstIndex(of: 0x27) else { return nil }
        return quote..<body.count
    }

    static func isSecretName(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        secretWords.contains { Bytes.find($0, in: name, ignoringCase: true) != nil }
    }
}
