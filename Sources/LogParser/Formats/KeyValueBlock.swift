import Knowledge
import ScanModel

/// Consecutive `Key: value` lines of a plain-text log, held until the block ends, so that a block
/// that names an entry's port, protocol or program becomes one record with those fields — the
/// shape of `netsh advfirewall firewall show rule` output and of setup transcripts:
///
///     Enabled:      Yes
///     Direction:    Out
///     Protocol:     UDP
///     LocalPort:    1434
///     Action:       Allow
///
/// A block that names no such field goes out line by line, as read.
struct KeyValueBlock {
    private struct Entry {
        var bytes: [UInt8]
        var line: Int
        var offset: Int
        var key: String
        var valueStart: Int
    }

    private var entries: [Entry] = []
    /// The most lines a block holds before it goes out (memory stays bounded).
    static let maximumLines = 64

    /// `Key: value` (the key one to five words of letters, digits, spaces, `-`, `_`, `(`, `)`, at most
    /// 40 bytes): the key and where the value starts; nil for any other line.
    static func split(_ bytes: UnsafeBufferPointer<UInt8>) -> (String, Int)? {
        guard let colon = bytes.prefix(41).firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return nil }
        var words = 1
        for byte in bytes[..<colon] {
            let letter = (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A
            let allowed =
                letter || (byte >= 0x30 && byte <= 0x39) || byte >= 0x80 || byte == 0x20 || byte == 0x09
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "(")
                || byte == UInt8(ascii: ")")
            guard allowed else { return nil }
            if byte == 0x20 { words += 1 }
        }
        let key = String(decoding: UnsafeBufferPointer(rebasing: bytes[..<colon]), as: UTF8.self).trimmingSpaces()
        guard !key.isEmpty, key.split(separator: " ").count <= 5, words <= 40 else { return nil }
        // "C:\…" and "12:03": a drive letter or a time is no key.
        if colon + 1 < bytes.count, bytes[colon + 1] == UInt8(ascii: "\\") || Bytes.isDigit(bytes[colon + 1]) {
            return nil
        }
        // One pair per line: "LocalPort: 5061 Protocol: TCP" is an entry of its own, read as such.
        if Bytes.find(": ", in: bytes, from: colon + 1) != nil { return nil }
        return (key, colon + 1)
    }

    /// Takes a line into the block; false when the line is no `Key: value` line (the caller flushes first).
    mutating func take(_ line: Line) -> Bool {
        guard let (key, valueStart) = Self.split(line.buffer) else { return false }
        entries.append(
            Entry(
                bytes: Array(line.buffer), line: line.number, offset: line.byteOffset, key: key, valueStart: valueStart)
        )
        return true
    }

    var isFull: Bool { entries.count >= Self.maximumLines }
    var isEmpty: Bool { entries.isEmpty }

    /// Gives the block out: one record with its fields when they name an entry's port, protocol or
    /// program, else one record per line.
    mutating func flush(path: String, vocabulary: FieldNames?, _ emit: (RecordDraft) throws -> Void) rethrows {
        let held = entries
        entries.removeAll(keepingCapacity: true)
        guard let first = held.first else { return }
        let isEntry =
            held.count >= 2
            && held.contains { vocabulary?.namesEntryField($0.key) ?? false }
        guard isEntry else {
            for entry in held {
                try entry.bytes.withUnsafeBufferPointer { bytes in
                    try emit(Self.draft(bytes, path: path, line: entry.line, offset: entry.offset))
                }
            }
            return
        }
        let fields = held.map { entry in
            RecordField(
                name: entry.key,
                value: String(decoding: entry.bytes[entry.valueStart...], as: UTF8.self).trimmingSpaces())
        }
        let text = Array(fields.map { "\($0.name): \($0.value)" }.joined(separator: "; ").utf8)
        try text.withUnsafeBufferPointer { bytes in
            var draft = Self.draft(bytes, path: path, line: first.line, offset: first.offset)
            draft.fields = fields
            try emit(draft)
        }
    }

    @_lifetime(borrow bytes)
    private static func draft(_ bytes: UnsafeBufferPointer<UInt8>, path: String, line: Int, offset: Int) -> RecordDraft
    {
        RecordDraft(
            bytes: bytes, path: path, line: line, byteOffset: offset, format: .plainText, kind: .text, context: [],
            clock: nil, inRollback: false, outcome: nil, number: nil, event: nil)
    }
}
