import Foundation

/// One JSON document as ocslog writes them all: pretty-printed, keys sorted (stable output for
/// diffs and golden files), slashes left as they are.
public enum JSONDocument {
    public static func render<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
