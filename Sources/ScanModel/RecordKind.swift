// What a parsed record is: the vocabulary parsers, the knowledge's `when.kinds` and the scan
// output share (here, below LogParser, so the knowledge validates against the type itself).

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
