import Knowledge
import ScanModel

/// An MSI or wizard outcome: success, or failure with the code the log gave.
public enum Outcome: Sendable, Equatable, Codable, CustomStringConvertible {
    case success
    case failure(code: String?)

    /// `success`, `failure` or `failure CODE` (as `scan --records` and the corpus expectations write it).
    public var description: String {
        switch self {
        case .success: "success"
        case .failure(let code): code.map { "failure \($0)" } ?? "failure"
        }
    }
}

/// One event of an event-log export.
public struct EventInfo: Sendable, Equatable, Codable {
    public var source: String
    public var eventID: Int?
    public var level: String
    public var time: String
    /// The computer the event was logged on, when the export states it.
    public var computer: String? = nil
}

/// One parsed record: a line (or a few, for events) with the context it occurred in.
public struct Record: Sendable, Equatable {
    /// The input it came from (`-` for standard input).
    public var path: String
    /// The line number of its first line.
    public var line: Int
    /// The offset of that line in the original input.
    public var byteOffset: Int
    /// The format of the log it belongs to.
    public var format: LogFormat
    /// What it is.
    public var kind: RecordKind
    /// Its text: tags stripped and entities decoded for HTML and XML; secrets masked.
    public var text: String
    /// The enclosing steps, outermost first: wizard step › task, or the MSI action.
    public var context: [String]
    /// Date and time when the log gives them (ISO 8601 without zone: `2006-11-16T19:01:39.391`).
    public var time: String?
    /// Whether this record follows the first `Return value 3` of its MSI log (the rollback cascade).
    public var inRollback: Bool
    /// The outcome an action end, execution result, summary or exit states.
    public var outcome: Outcome?
    /// A number the record states: an MSI return value, an exit status, a ship-error or note code.
    public var number: Int?
    /// The event fields, for event-log records.
    public var event: EventInfo?
    /// Named values: a table row's cells named by the header, an XML element's attributes or child elements.
    public var fields: [RecordField]
    /// The rule a firewall record states (`firewall-rule` records).
    public var firewall: FirewallChange?

    public init(
        path: String, line: Int, byteOffset: Int, format: LogFormat, kind: RecordKind, text: String,
        context: [String] = [], time: String? = nil, inRollback: Bool = false, outcome: Outcome? = nil,
        number: Int? = nil, event: EventInfo? = nil, fields: [RecordField] = []
    ) {
        self.fields = fields
        self.path = path
        self.line = line
        self.byteOffset = byteOffset
        self.format = format
        self.kind = kind
        self.text = text
        self.context = context
        self.time = time
        self.inRollback = inRollback
        self.outcome = outcome
        self.number = number
        self.event = event
    }
}
