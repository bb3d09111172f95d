import ArgumentParser
import LogParser
import Report
import RuleGen
import ScanModel

// Options whose values are a closed list are typed: the parser checks them, and help and shell
// completions list the values. Each accepts the synonyms its type reads (`cp1252`, `markdown`).

extension TextEncoding: ExpressibleByArgument {
    public init?(argument: String) { self.init(userName: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension LogFormat: ExpressibleByArgument {
    public init?(argument: String) { self.init(userName: argument) }
    public static var allValueStrings: [String] {
        ["msi", "html", "xml", "event", "csv", "text", "reg", "netsh", "netsh-config", "event-xml"]
    }
}

extension ChainPolicy: ExpressibleByArgument {}

/// A role id; checked against the knowledge (which `--knowledge` can extend) when the command runs.
extension RoleID: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension ReportFormat: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument == "markdown" ? "md" : argument) }
}

extension ScanDiff.Format: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument == "markdown" ? "md" : argument) }
}
