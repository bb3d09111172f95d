import Foundation
import ScanModel

/// One JSON document as ocslog writes them all: pretty-printed, keys sorted (stable output for
/// diffs and golden files), slashes left as they are.
public enum JSONDocument {
    public static func render<Value: Encodable>(_ value: Value) throws -> String {
        String(decoding: try data(value), as: UTF8.self)
    }

    /// The document's bytes (written as they are: a large scan's JSON is not copied into a string).
    public static func data<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Writes `document` — whose top-level array `key` may be long (a scan of thousands of logs) —
    /// with the same bytes as ``render(_:)`` and a final newline, encoding that array one element at a
    /// time: `shell` is the document with the array empty, `elements` the array; `write` receives the
    /// pieces in order. Should the encoder ever write an empty array otherwise than expected, the
    /// whole document is rendered at once instead (never a document without its array).
    public static func write<Value: Encodable, Element: Encodable>(
        _ document: Value, shell: Value, streaming key: String, elements: [Element], to write: (Data) throws -> Void
    ) throws {
        let text = try render(shell)
        let empty = "\n  \"\(key)\" : [\n\n  ]"
        guard !elements.isEmpty, let range = text.range(of: empty) else {
            try write(Data(((elements.isEmpty ? text : try render(document)) + "\n").utf8))
            return
        }
        try write(Data((text[..<range.lowerBound] + "\n  \"\(key)\" : [\n").utf8))
        for (index, element) in elements.enumerated() {
            // Nested two levels deep: every line indented by four more spaces (empty lines stay empty).
            let lines = try render(element).split(separator: "\n", omittingEmptySubsequences: false)
            let indented = lines.map { $0.isEmpty ? "" : "    " + $0 }.joined(separator: "\n")
            try write(Data((indented + (index + 1 < elements.count ? ",\n" : "\n")).utf8))
        }
        try write(Data(("  ]" + text[range.upperBound...] + "\n").utf8))
    }
}
