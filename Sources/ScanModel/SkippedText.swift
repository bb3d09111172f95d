/// Counts of text that was cut, replaced or re-read.
public struct SkippedText: Sendable, Equatable, Codable {
    /// Lines longer than the maximum line length.
    public var longLines: Int
    /// Bytes dropped from those lines.
    public var bytes: Int
    /// Lines that were not valid UTF-8 and were read as Windows-1252.
    public var windows1252Lines: Int
    /// Characters that could not be decoded (replaced by U+FFFD).
    public var undecodable: Int
    /// NUL bytes: binary data (an executable, a disk error) read as text.
    public var binaryBytes: Int
    /// Whether the input ended inside a record: in a tag, a comment or an open element of a
    /// markup log, inside a quoted CSV field, or in an MSI action that never ended (a cut log).
    public var endedInsideRecord: Bool
    /// Records a parser cut at its size limit (a description longer than 64 KiB, a CSV row a
    /// quote held open past 1 MiB), and the bytes it dropped; nil when none.
    public var recordsCut: Int? = nil
    public var recordBytesCut: Int? = nil
    /// Pattern matches abandoned at PCRE2's match limit (their records were not fully
    /// searched); nil when none.
    public var matchesAbandoned: Int? = nil

    public init(
        longLines: Int = 0, bytes: Int = 0, windows1252Lines: Int = 0, undecodable: Int = 0, binaryBytes: Int = 0,
        endedInsideRecord: Bool = false, recordsCut: Int? = nil, recordBytesCut: Int? = nil,
        matchesAbandoned: Int? = nil
    ) {
        self.longLines = longLines
        self.bytes = bytes
        self.windows1252Lines = windows1252Lines
        self.undecodable = undecodable
        self.binaryBytes = binaryBytes
        self.endedInsideRecord = endedInsideRecord
        self.recordsCut = recordsCut
        self.recordBytesCut = recordBytesCut
        self.matchesAbandoned = matchesAbandoned
    }
}
