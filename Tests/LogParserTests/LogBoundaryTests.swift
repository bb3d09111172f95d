import Foundation
import Knowledge
import ScanModel
import TestSupport
import Testing

@testable import LogParser

/// Where one log of a stream ends and the next begins, and which computer each states: the cases
/// the README names, each in a few lines.
@Suite struct LogBoundaryTests {
    static func scan(_ text: String, path: String = "-", server: String? = nil) throws -> ScanResult {
        let analyzer = Analyzer(knowledge: try ScanFixtures.knowledge, options: AnalysisOptions(server: server))
        try analyzer.analyze(InputFile(path: path, contents: Array(text.utf8)))
        return analyzer.result()
    }

    static let edgeHTML = """
        <html><head><title>Activate Edge Server</title></head><body>
        <div name="Activate Edge Server"><div name="Add firewall exceptions">
        <div>Computer: EDGE01.perimeter.contoso.com</div>
        <div>Firewall exception added: Access Edge, TCP 5061</div>
        </div></div></body></html>

        """
    static let msi = """
        === Verbose logging started: 3/2/2010  14:20:11  Build type: SHIP UNICODE 3.01.4000.4042 ===
        MSI (s) (2C:48) [14:20:12:100]: Product: Microsoft Office Communications Server 2007 R2, Mediation Server -- Error 1920. Service failed to start.
        Property(S): ComputerName = MED01
        === Logging stopped: 3/2/2010  14:21:00 ===
        MSI (c) (E4:D8) [14:21:00:198]: MainEngineThread is returning 1603
        === Verbose logging stopped: 3/2/2010  14:21:00 ===

        """
    static func transcript(_ machine: String, _ body: String) -> String {
        """
        **********************
        Windows PowerShell transcript start
        Start time: 20200317091533
        Machine: \(machine) (Microsoft Windows NT 10.0.17763.0)
        **********************
        \(body)
        **********************
        Windows PowerShell transcript end
        End time: 20200317092210
        **********************

        """
    }

    @Test func eachLogOfAStreamIsAnInputWithItsServerAndRole() throws {
        let result = try Self.scan(Self.edgeHTML + Self.msi + Self.transcript("DIR01", "PS C:\\> Enable-CsComputer"))
        #expect(result.inputs.map(\.log) == [1, 2, 3])
        #expect(result.inputs.map(\.role) == ["edge", "mediation", "unknown"])
        #expect(result.inputs.map(\.server) == ["EDGE01.perimeter.contoso.com", "MED01", "DIR01"])
        #expect(result.inputs[0].title == "Activate Edge Server")
        #expect(result.inputs[1].firstLine == result.inputs[0].lines + 1)
        // The MSI log's closing lines after "Logging stopped" stay in it (and the transcript's opening
        // ruler, which belongs to no log in particular, with them).
        #expect(result.inputs[1].lines == 6 + 1)
        let edge = try #require(result.exceptions.first { $0.role == "edge" })
        #expect(edge.server == "EDGE01.perimeter.contoso.com")
        #expect(edge.evidence.location == "-#1:4")
        let failure = try #require(result.findings.first { $0.code == "1920" })
        #expect(failure.server == "MED01")
        #expect(failure.evidence[0].location == "-#2:\(result.inputs[0].lines + 2)")
    }

    @Test func aPreambleAndATrailerBelongToTheirLog() throws {
        let result = try Self.scan("Here is the log from the ticket:\n\n" + Self.edgeHTML + "(end of paste)\n")
        #expect(result.inputs.count == 1)
        #expect(result.inputs[0].role == "edge")
        #expect(result.inputs[0].lines == 2 + Self.edgeHTML.split(separator: "\n").count + 1)
    }

    @Test func twoTranscriptsAreTwoLogsButPlainTextAfterPlainTextIsOne() throws {
        let two = try Self.scan(Self.transcript("DIR01", "one") + Self.transcript("EDGE01", "two"))
        #expect(two.inputs.map(\.server) == ["DIR01", "EDGE01"])
        // Text without a header after text that never says it ends cannot be told apart: one log.
        let one = try Self.scan("Activation notes for FE01\nall done\n" + "Second file, no header\nmore\n")
        #expect(one.inputs.count == 1)
        #expect(one.inputs[0].log == 1)
    }

    /// Windows Installer's own lines after a text log's first lines begin an MSI log of their own (an
    /// MSI excerpt after a copied text in a pipe): its computer is not the text's.
    @Test func windowsInstallerLinesAfterALongTextBeginAnMSILog() throws {
        let notes = (1...25).map { "Note \($0): activation of the Mediation Server" }.joined(separator: "\n") + "\n"
        let excerpt = """
            MSI (s) (B4:60) [11:02:40:100]: Doing action: InstallFinalize
            Property(S): ComputerName = FE02

            """
        let result = try Self.scan(notes + excerpt)
        #expect(result.inputs.map(\.format) == [.plainText, .msiVerbose])
        #expect(result.inputs.map(\.server) == [nil, "FE02"])
        #expect(result.inputs[1].firstLine == 26)
    }

    /// `Get-WinEvent | Format-List` is an event export: a record per `TimeCreated`, the message's
    /// indented lines joined, `MachineName` its computer; after a text log it begins a log of its own.
    @Test func aFormatListEventExport() throws {
        let export = """

            TimeCreated      : 11/9/2009 8:14:03 AM
            ProviderName     : OCS Communicator Web Access
            Id               : 1002
            LevelDisplayName : Error
            Message          : Communicator Web Access could not connect to the pool
                               over TLS (port 5061). Error code: 3286842403 (0xC3E93C23).
            MachineName      : cwa01.fabrikam.local

            TimeCreated      : 11/9/2009 8:13:58 AM
            ProviderName     : Schannel
            Id               : 36870
            LevelDisplayName : Error
            Message          : A fatal error occurred when attempting to access the SSL server credential private key.
            MachineName      : cwa01.fabrikam.local

            """
        // (Twenty lines and more: the text is a log of its own, not a preamble of the export.)
        let notes = (1...25).map { "VERBOSE: Installing database \($0) on sql01\\rtc" }.joined(separator: "\n") + "\n"
        let result = try Self.scan(notes + export)
        #expect(result.inputs.map(\.format) == [.plainText, .eventText])
        #expect(result.inputs.map(\.server) == [nil, "cwa01.fabrikam.local"])
        let first = try #require(result.findings.first { $0.event == 1002 })
        #expect(first.code == "0xC3E93C23")
        #expect(first.evidence[0].text?.contains("MachineName") == false)
        #expect(first.evidence[0].text?.hasSuffix("(0xC3E93C23).") == true)
        #expect(result.findings.contains { $0.event == 36870 })
    }

    /// A script's "=== Step 1: …" banner is no Windows Installer header (a date follows one's colon).
    @Test func aBannerIsNoMSIHeader() throws {
        let result = try Self.scan("=== Step 1: install the database on sql01\\rtc ===\nVERBOSE: done\n")
        #expect(result.inputs.map(\.format) == [.plainText])
    }

    @Test func aByteOrderMarkBeginsALog() throws {
        let text = "first log, plain\nline two\n" + "\u{FEFF}second log, plain\nline two\n"
        let result = try Self.scan(text)
        #expect(result.inputs.count == 2)
        #expect(result.inputs[1].firstLine == 3)
    }

    @Test func aFileHoldingOneLogIsNotNumbered() throws {
        // With a trailer after the document too: it joins the log, and the file still holds one.
        for text in [Self.edgeHTML, Self.edgeHTML + "(end of paste)\n"] {
            let result = try Self.scan(text, path: "logs/edge.html")
            #expect(result.inputs.count == 1)
            #expect(result.inputs[0].log == nil && result.inputs[0].offset == nil && result.inputs[0].logs == 1)
            #expect(result.exceptions.allSatisfy { $0.evidence.location.hasPrefix("logs/edge.html:") })
        }
        let two = try Self.scan(Self.edgeHTML + Self.msi, path: "logs/both.log")
        #expect(two.inputs.map(\.log) == [1, 2])
        #expect(two.exceptions.allSatisfy { $0.evidence.location.hasPrefix("logs/both.log#1:") })
    }

    @Test func serversAreReadNeverGuessed() throws {
        func server(_ line: String) throws -> String? {
            try Self.scan("<html><body><div name=\"Activate Director\">\n\(line)\n<div>ok</div></div></body></html>\n")
                .inputs[0].server
        }
        #expect(try server("<tr><td>Computer:</td><td>dir01.contoso.com</td></tr>") == "dir01.contoso.com")
        #expect(try server("<MachineName>DIR01</MachineName>") == "DIR01")
        #expect(
            try server("<Action Name=\"Activate Director\" Machine=\"DIR01.fabrikam.local\">") == "DIR01.fabrikam.local"
        )
        #expect(
            try server(
                "<div><span class=\"lbl\">Computer FQDN:</span><span class=\"val\">dir01.fabrikam.local</span></div>")
                == "dir01.fabrikam.local")
        #expect(
            try server("<div>Local Computer: DIR01.contoso.com | Pool: pool01.contoso.com</div>") == "DIR01.contoso.com"
        )
        #expect(try server("<div>Pool: pool01.contoso.com (Director)</div>") == nil)
        #expect(try server("<div>Computer configured for the Director role.</div>") == nil)
        #expect(try server("<div>Computer: configured</div>") == nil)
        #expect(try server("<div>Computer Account: CONTOSO\\DIR01$</div>") == nil)
        #expect(try server("<div>Computer: localhost</div>") == nil)
        // Other machines' names under keys of their own are not the log's computer.
        #expect(try server("<div>Back-end server name: SQLBE01\\RTC</div>") == nil)
        #expect(try server("<div>SQL Server host: sql01.contoso.com</div>") == nil)
        #expect(try server("<div>Hostname: pool01.contoso.com</div>") == nil)
    }

    @Test func aNetBIOSNameIsItsOneQualifiedNameAndServerOverridesAll() throws {
        let result = try Self.scan(
            Self.msi.replacingOccurrences(of: "MED01", with: "FE02")
                + Self.edgeHTML.replacingOccurrences(
                    of: "EDGE01.perimeter.contoso.com", with: "fe02.contoso.com"))
        #expect(result.inputs.map(\.server) == ["fe02.contoso.com", "fe02.contoso.com"])
        #expect(result.summary.servers == ["fe02.contoso.com"])
        let forced = try Self.scan(Self.edgeHTML + Self.msi, server: "gw01")
        #expect(forced.inputs.map(\.server) == ["gw01", "gw01"])
    }

    @Test func aLogWithoutARoleTakesItsServersOneRole() throws {
        let result = try Self.scan(Self.msi + Self.transcript("MED01", "netsh advfirewall firewall show rule name=all"))
        #expect(result.inputs.map(\.role) == ["mediation", "mediation"])
        let mixed = try Self.scan(
            Self.msi + Self.edgeHTML.replacingOccurrences(of: "EDGE01.perimeter.contoso.com", with: "MED01")
                + Self.transcript("MED01", "hello"))
        #expect(mixed.inputs.map(\.role) == ["mediation", "edge", "unknown"])
    }
}
