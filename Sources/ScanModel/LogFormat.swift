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
