/// The kinds of log ocslog recognises.
public enum LogFormat: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// A verbose Windows Installer log (`msiexec /l*v`).
    case msiVerbose = "msi-verbose"
    /// An OCS, Lync or Skype for Business deployment-wizard log (HTML).
    case deploymentHTML = "deployment-html"
    /// An LCSCmd log (XML).
    case lcscmdXML = "lcscmd-xml"
    /// An event-log export as text (`wevtutil qe /f:text`, Event Viewer's text export).
    case eventText = "event-text"
    /// An event-log export as CSV (Event Viewer's "Save As CSV").
    case eventCSV = "event-csv"
    /// A registry export of the Windows Firewall policy (`reg export …\FirewallPolicy`).
    case registryExport = "registry-export"
    /// `netsh advfirewall firewall show rule name=all verbose` (Windows Server 2008 and later).
    case netshAdvfirewall = "netsh-advfirewall"
    /// `netsh firewall show config` (Windows Server 2003).
    case netshFirewall = "netsh-firewall"
    /// An event-log export as XML (`wevtutil qe … /f:xml`, Event Viewer's "Save as XML").
    case eventXML = "event-xml"
    /// Anything else, read line by line.
    case plainText = "plain-text"

    public var description: String { rawValue }

    /// Whether it is the firewall's own record (an export of its rules, netsh output), not a setup log.
    public var isFirewallRecord: Bool { self == .registryExport || self == .netshAdvfirewall || self == .netshFirewall }

    /// Parses a user's name for a format (`msi`, `html`, `xml`, `event`, `csv`, `text`, `reg`, `netsh`,
    /// `netsh-config`, `event-xml`, or a raw value).
    public init?(userName: String) {
        switch userName.lowercased() {
        case "msi", "msi-verbose", "installer": self = .msiVerbose
        case "html", "deployment", "deployment-html", "wizard": self = .deploymentHTML
        case "xml", "lcscmd", "lcscmd-xml": self = .lcscmdXML
        case "event", "events", "event-text", "evt": self = .eventText
        case "csv", "event-csv": self = .eventCSV
        case "text", "plain", "plain-text", "txt": self = .plainText
        case "reg", "registry", "registry-export": self = .registryExport
        case "netsh", "advfirewall", "netsh-advfirewall": self = .netshAdvfirewall
        case "netsh-firewall", "netsh-config": self = .netshFirewall
        case "event-xml", "evtx-xml", "wevtutil-xml": self = .eventXML
        default: return nil
        }
    }
}

/// What a record is, as its format's structure says (not yet what it means: the classifier decides that).
public enum RecordKind: String, Sendable, Codable, CaseIterable {
    /// The kind as one bit, for sets of kinds tested per record without hashing.
    public var bit: UInt32 {
        switch self {
        case .logStart: 1 << 0
        case .logEnd: 1 << 1
        case .engine: 1 << 2
        case .actionStart: 1 << 3
        case .actionEnd: 1 << 4
        case .property: 1 << 5
        case .note: 1 << 6
        case .productOutcome: 1 << 7
        case .summary: 1 << 8
        case .customActionResult: 1 << 9
        case .shipError: 1 << 10
        case .engineExit: 1 << 11
        case .continuation: 1 << 12
        case .executionResult: 1 << 13
        case .event: 1 << 14
        case .text: 1 << 15
        case .firewallRule: 1 << 16
        }
    }

    /// The first line of a log (MSI `=== Verbose logging started`, an HTML or XML document start).
    case logStart = "log-start"
    /// MSI `=== Logging stopped`.
    case logEnd = "log-end"
    /// An MSI engine line: `MSI (s) (84:34) [12:12:03:391]: …`.
    case engine
    /// `Action start 16:34:29: InstallFiles.` (or `Action 16:34:29: INSTALL.`).
    case actionStart = "action-start"
    /// `Action ended 16:34:29: InstallFiles. Return value 3.`
    case actionEnd = "action-end"
    /// `Property(S): NAME = value` and `PROPERTY CHANGE` lines.
    case property
    /// `Note: 1: 1708` (an Error-table lookup or an internal error).
    case note
    /// `Product: Name -- Installation failed.` / `-- Error 1926. …`
    case productOutcome = "product-outcome"
    /// `Windows Installer installed the product. … status: 1603.`
    case summary
    /// `CustomAction X returned actual error code 1603`.
    case customActionResult = "custom-action-result"
    /// `Error 1920. Service … failed to start.`
    case shipError = "ship-error"
    /// `MainEngineThread is returning 1603`.
    case engineExit = "engine-exit"
    /// A line that continues the record before it.
    case continuation
    /// A task's Execution Result (`<Success>`, `Failure [0xC3EC796C] …`, `Task status: Completed`).
    case executionResult = "execution-result"
    /// One event from an event-log export.
    case event
    /// Any other text.
    case text
    /// A rule of the firewall's own record (an exported rule, a rule-change event).
    case firewallRule = "firewall-rule"
}

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
