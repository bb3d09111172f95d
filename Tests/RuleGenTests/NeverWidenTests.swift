import Foundation
import Knowledge
import LogParser
import ScanModel
import TestSupport
import Testing

@testable import RuleGen

/// Regression tests from a hostile review: inputs that once put a port into a ruleset that no log
/// line opens (a remote port, a listener, a count, a removed, disabled, outbound or blocked rule, a
/// documented port), each with exactly what may be opened.
@Suite struct NeverWidenTests {
    /// What the nftables plan opens for a log, as "protocol port(s)" strings, sorted.
    static func opened(_ log: String, name: String, documented: Bool = false) throws -> [String] {
        let analyzer = Analyzer(knowledge: try RuleFixtures.knowledge)
        try analyzer.analyze(InputFile(path: name, contents: Array(log.utf8)))
        var options = RuleOptions()
        options.documented = documented
        let plan = RulePlan.build(from: analyzer.result(), knowledge: try RuleFixtures.knowledge, options: options)
        return plan.chains.flatMap { chain in chain.elements.map { "\($0.transport.rawValue) \($0.range)" } }.sorted()
    }

    static let cases: [(name: String, log: String, opened: [String])] = [
        (
            "remote-port.html",
            """
            <html><body><h4>Task: Add Windows Firewall exceptions</h4>
            <table><tr><th>Rule</th><th>Protocol</th><th>Local Port</th><th>Remote Port</th></tr>
            <tr><td>SIP</td><td>TCP</td><td>5061</td><td>1433</td></tr></table></body></html>
            """, ["tcp 5061"]
        ),
        (
            "remote-key.txt", "Adding firewall rule: Name=SIP; Local Port=5061; Remote Port=1433; Protocol=TCP\n",
            ["tcp 5061"]
        ),
        (
            "directions.html",
            """
            <html><body><div class="task">Task: Add Windows Firewall exceptions</div>
            <table><tr><th>Rule</th><th>Direction</th><th>Protocol</th><th>Local Port</th><th>Enabled</th></tr>
            <tr><td>SIP</td><td>Inbound</td><td>TCP</td><td>5061</td><td>Yes</td></tr>
            <tr><td>SQL</td><td>Outbound</td><td>TCP</td><td>1434</td><td>Yes</td></tr>
            <tr><td>Old SIP</td><td>Inbound</td><td>TCP</td><td>5060</td><td>No</td></tr></table></body></html>
            """, ["tcp 5061"]
        ),
        (
            "title.txt",
            """
            Front End activation - firewall and services
            Connected to SQL Server sql01.example.com over TCP port 1433.
            Service RTCSRV started, listening on port 5061 (PID 4412).
            Remote administration uses TCP port 3389.

            """, []
        ),
        (
            "negatives.log",
            """
            === Verbose logging started: 3/16/2010  14:02:11  Build type: SHIP UNICODE 4.05.6001.00  Calling process: C:\\Windows\\system32\\msiexec.exe ===
            Property(S): ProductName = Microsoft Office Communications Server 2007 R2, Mediation Server
            Action start 14:02:14: CA_AddFirewallExceptions.
            CA_AddFirewallExceptions: connected to SQL over TCP port 1433 to read configuration
            CA_AddFirewallExceptions: Adding firewall exception: Program="C:\\x\\MediationServerSvc.exe" Port=5068 Protocol=TCP
            CA_AddFirewallExceptions: previous exception for port 5070 removed
            CA_AddFirewallExceptions: TCP 5065 skipped: not required on this role
            CA_AddFirewallExceptions: Added 5 firewall exceptions (TCP: 4, UDP: 1) in 12 ms
            CA_AddFirewallExceptions: Allowing outbound TCP 5060 to gateway gw01.example.com
            Action ended 14:02:15: CA_AddFirewallExceptions. Return value 1.
            """, ["tcp 5068"]
        ),
        (
            "netsh-show-rule.txt",
            """
            netsh advfirewall firewall show rule name=all

            Rule Name:                            Block Telnet
            ----------------------------------------------------------------------
            Enabled:                              Yes
            Direction:                            In
            Protocol:                             TCP
            LocalPort:                            23
            Action:                               Block

            Rule Name:                            SQL client
            ----------------------------------------------------------------------
            Enabled:                              Yes
            Direction:                            Out
            Protocol:                             UDP
            LocalPort:                            1434
            Action:                               Allow

            Rule Name:                            SIP
            ----------------------------------------------------------------------
            Enabled:                              Yes
            Direction:                            In
            RemoteIP:                             Any
            Protocol:                             TCP
            LocalPort:                            5061
            Action:                               Allow

            """, ["tcp 5061"]
        ),
        (
            // A listing that does not say who may connect (no RemoteIP line) opens nothing.
            "netsh-without-remote-ip.txt",
            """
            Rule Name:                            SIP
            ----------------------------------------------------------------------
            Enabled:                              Yes
            Direction:                            In
            Protocol:                             TCP
            LocalPort:                            5061
            Action:                               Allow

            """, []
        ),
        (
            "powershell.txt",
            """
            Windows Firewall rules created by setup:
            New-NetFirewallRule -DisplayName 'Telnet' -Direction Inbound -Protocol TCP -LocalPort 23 -Action Block
            New-NetFirewallRule -DisplayName 'SIP' -Direction Inbound -Protocol TCP -LocalPort 5061 -Action Allow

            """, ["tcp 5061"]
        ),
        ("program-only.txt", "Adding Windows Firewall exception for program C:\\OCS\\Server\\Core\\RTCSrv.exe\n", []),
    ]

    @Test(arguments: cases.indices)
    func opensOnlyWhatTheLogOpens(index: Int) throws {
        let (name, log, wanted) = Self.cases[index]
        #expect(try Self.opened(log, name: name) == wanted, "\(name)")
    }

    /// The Windows scripts follow the same rule: a program's documented ports only with --documented.
    @Test func windowsScriptsLeaveDocumentedPortsOut() throws {
        let analyzer = Analyzer(knowledge: try RuleFixtures.knowledge)
        let log = "Adding Windows Firewall exception for program C:\\OCS\\Server\\Core\\RTCSrv.exe\n"
        try analyzer.analyze(InputFile(path: "fe.txt", contents: Array(log.utf8)))
        let result = analyzer.result()
        #expect(!result.exceptions.isEmpty && result.exceptions.allSatisfy { $0.origin == .documented })
        let plain = WindowsPlan.build(from: result, knowledge: try RuleFixtures.knowledge, roles: [], documented: false)
        #expect(plain.rules.isEmpty)
        #expect(plain.notes.contains { $0.contains("no log line states") })
        let asked = WindowsPlan.build(from: result, knowledge: try RuleFixtures.knowledge, roles: [], documented: true)
        #expect(!asked.rules.isEmpty)
    }

    /// A property line in another language keeps its secret masked, like `Property(S):`.
    @Test func localizedPropertySecretsAreMasked() throws {
        let log = """
            === Ausführliche Protokollierung gestartet: 08.03.2010  09:14:27  Buildtyp: SHIP UNICODE 4.05.6001.00 ===
            Eigenschaft(S): SQLPASSWORD = hunter2secret
            """
        var texts: [String] = []
        _ = try InputFile(path: "de.log", contents: Array(log.utf8)).parse { texts.append($0.materialize().text) }
        #expect(texts.contains { $0.contains("SQLPASSWORD = ********") })
        #expect(!texts.joined().contains("hunter2secret"))
    }
}
