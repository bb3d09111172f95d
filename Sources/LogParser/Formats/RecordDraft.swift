import ScanModel

/// A record as a parser produces it: borrowed bytes plus structure, non-escapable so that it
/// cannot be kept past the callback it is given to.
///
/// Parsers never make a `String` per line: a sink that cares about a record calls
/// ``materialize()``; the others look at ``kind`` and ``bytes`` and move on.
public struct RecordDraft: ~Escapable {
    /// The record's text in UTF-8 (tags stripped and entities decoded for markup; secrets masked).
    public var bytes: Span<UInt8> {
        @_lifetime(borrow self)
        get { buffer.span }
    }
    /// The same bytes for this module's parsers and sinks, which look at them only while the draft lives.
    let buffer: UnsafeBufferPointer<UInt8>
    public let path: String
    public let line: Int
    public let byteOffset: Int
    public let format: LogFormat
    public let kind: RecordKind
    /// The enclosing steps, outermost first (shared storage: no copy per record).
    public let context: [String]
    public let clock: LogClock?
    public let inRollback: Bool
    public let outcome: Outcome?
    public let number: Int?
    public let event: EventInfo?
    /// Named values: a table row's cells named by the header, an XML element's attributes or child elements.
    public var fields: [RecordField] = []
    /// The rule a firewall record states, for `firewall-rule` records (kept in a box: a draft is
    /// copied per record, and most records are no rule).
    public var firewall: FirewallChange? {
        get { firewallBox?.change }
        set { firewallBox = newValue.map(FirewallChangeBox.init) }
    }
    var firewallBox: FirewallChangeBox? = nil

    @_lifetime(borrow bytes)
    init(
        bytes: UnsafeBufferPointer<UInt8>, path: String, line: Int, byteOffset: Int, format: LogFormat,
        kind: RecordKind, context: [String], clock: LogClock?, inRollback: Bool, outcome: Outcome?, number: Int?,
        event: EventInfo?, fields: [RecordField] = []
    ) {
        buffer = bytes
        self.path = path
        self.line = line
        self.byteOffset = byteOffset
        self.format = format
        self.kind = kind
        self.context = context
        self.clock = clock
        self.inRollback = inRollback
        self.outcome = outcome
        self.number = number
        self.event = event
        self.fields = fields
    }

    /// The record as a value that outlives the callback.
    public func materialize() -> Record {
        var record = Record(
            path: path, line: line, byteOffset: byteOffset, format: format, kind: kind,
            text: String(decoding: buffer, as: UTF8.self), context: context, time: clock?.iso8601,
            inRollback: inRollback, outcome: outcome, number: number, event: event, fields: fields)
        record.firewall = firewall
        return record
    }
}

/// A calendar date and time of day as a log states it, without a time zone.
public struct LogClock: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    /// Milliseconds since midnight.
    public var milliseconds: Int

    /// `2006-11-16T19:01:39.391`, or `T19:01:39.391` when the date is unknown (year 0).
    public var iso8601: String {
        let seconds = milliseconds / 1000
        let time =
            "\(pad(seconds / 3600)):\(pad(seconds / 60 % 60)):\(pad(seconds % 60)).\(pad(milliseconds % 1000, width: 3))"
        guard year > 0 else { return "T" + time }
        return "\(pad(year, width: 4))-\(pad(month))-\(pad(day))T" + time
    }

    /// The next calendar day (proleptic Gregorian).
    public func nextDay() -> LogClock {
        var next = self
        let lengths = [31, Self.isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard year > 0, (1...12).contains(month) else { return next }
        next.day += 1
        if next.day > lengths[month - 1] {
            next.day = 1
            next.month += 1
            if next.month > 12 {
                next.month = 1
                next.year += 1
            }
        }
        return next
    }

    static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    private func pad(_ value: Int, width: Int = 2) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

/// Small byte-level helpers the parsers share: no `String`, no regular expression.
enum Bytes {
    /// Whether `bytes` starts with the ASCII `prefix` at `offset`, ignoring ASCII case when asked.
    @inline(__always)
    static func hasPrefix(
        _ bytes: UnsafeBufferPointer<UInt8>, _ prefix: StaticString, at offset: Int = 0, ignoringCase: Bool = false
    ) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard offset >= 0, bytes.count - offset >= count else { return false }
        let start = prefix.utf8Start
        for index in 0..<count {
            var byte = bytes[offset + index]
            var expected = start[index]
            if ignoringCase {
                byte = lower(byte)
                expected = lower(expected)
            }
            if byte != expected { return false }
        }
        return true
    }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    /// The offset of the first occurrence of the ASCII `needle`, optionally ignoring case.
    static func find(
        _ needle: StaticString, in bytes: UnsafeBufferPointer<UInt8>, from: Int = 0, ignoringCase: Bool = false
    ) -> Int? {
        let count = needle.utf8CodeUnitCount
        guard count > 0, bytes.count - from >= count else { return nil }
        let first = lower(needle.utf8Start[0])
        var index = max(0, from)
        while index + count <= bytes.count {
            let byte = ignoringCase ? lower(bytes[index]) : bytes[index]
            if byte == (ignoringCase ? first : needle.utf8Start[0]),
                hasPrefix(bytes, needle, at: index, ignoringCase: ignoringCase)
            {
                return index
            }
            index += 1
        }
        return nil
    }

    /// Skips ASCII spaces and tabs from `offset`.
    @inline(__always)
    static func skipSpaces(_ bytes: UnsafeBufferPointer<UInt8>, from offset: Int) -> Int {
        var index = offset
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        return index
    }

    /// Reads an unsigned decimal number at `offset` (at most 10 digits); returns it and where it ended.
    @inline(__always)
    static func number(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> (value: Int, end: Int)? {
        var index = offset
        var value = 0
        while index < bytes.count, index - offset < 10, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            value = value * 10 + Int(bytes[index] - 0x30)
            index += 1
        }
        return index > offset ? (value, index) : nil
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// Whether a byte is an ASCII letter.
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    /// The bytes without leading and trailing ASCII whitespace.
    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }

    static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}

/// A firewall change behind one reference.
final class FirewallChangeBox: Sendable {
    let change: FirewallChange
    init(_ change: FirewallChange) { self.change = change }
}
