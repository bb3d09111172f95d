import Foundation
import Knowledge

/// What tests share: the built-in knowledge (loaded once; a load failure is thrown to the test
/// that needs it, never a crash of the whole run) and the corpus folders.
public enum Fixtures {
    private static let loaded = Result { () throws(KnowledgeError) -> KnowledgeBase in
        try KnowledgeBase.embedded()
    }

    /// The built-in knowledge.
    public static func knowledge() throws -> KnowledgeBase { try loaded.get() }

    /// `corpus/` of this checkout.
    public static let corpus = BinaryRunner.packageRoot.appendingPathComponent("corpus")
}

/// Snapshots: a test's output compared with a file kept in the repository, one file per
/// scenario, so that a change shows where it changed. `OCSLOG_UPDATE_GOLDEN=1` records them
/// (writes what the test produced) instead of comparing.
public enum Snapshot {
    public static var recording: Bool { ProcessInfo.processInfo.environment["OCSLOG_UPDATE_GOLDEN"] == "1" }

    /// Compares `text` with the snapshot `file` (or records it): nil when they are equal, else
    /// what differs (the first differing line of each, and the line counts).
    public static func mismatch(_ text: String, file: URL) throws -> String? {
        if recording {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
            return nil
        }
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            return "\(file.lastPathComponent): no snapshot yet (run with OCSLOG_UPDATE_GOLDEN=1 to record it)"
        }
        guard text != expected else { return nil }
        let got = text.split(separator: "\n", omittingEmptySubsequences: false)
        let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let index =
            zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, want.count)
        let line = { (lines: [Substring]) in index < lines.count ? String(lines[index]) : "(end)" }
        return """
            \(file.lastPathComponent) differs at line \(index + 1) (\(got.count) lines, snapshot \(want.count)); \
            OCSLOG_UPDATE_GOLDEN=1 records it
              got:      \(line(got))
              snapshot: \(line(want))
            """
    }
}
