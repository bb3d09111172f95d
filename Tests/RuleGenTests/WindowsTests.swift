import Foundation
import Knowledge
import LogParser
import ScanModel
import TestSupport
import Testing

@testable import RuleGen

@Suite struct WindowsTargetTests {
    static func render(_ result: ScanResult, documented: Bool = false, roles: [String] = []) throws -> (String, String)
    {
        let plan = WindowsPlan.build(
            from: result, knowledge: try RuleFixtures.knowledge, roles: roles.map { RoleID($0) }, documented: documented
        )
        return (
            PowerShellWriter.render(plan, generator: RuleFixtures.generator),
            NetshWriter.render(plan, generator: RuleFixtures.generator)
        )
    }

    @Test func goldenFilesForBothWindowsTargets() throws {
        let result = try RuleFixtures.scan(RuleFixtures.allScenarios)
        let (powershell, netsh) = try Self.render(result)
        for (name, text) in [("corpus.ps1", powershell), ("corpus.cmd", netsh)] {
            let url = RuleFixtures.golden.appendingPathComponent(name)
            if ProcessInfo.processInfo.environment["OCSLOG_UPDATE_GOLDEN"] == "1" {
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            let expected = try String(contentsOf: url, encoding: .utf8)
            #expect(text == expected, "\(name) differs from its golden file (OCSLOG_UPDATE_GOLDEN=1 rewrites it)")
        }
    }

    @Test func groupsAreRemovedThenAddedAndProgramsKept() throws {
        let result = try RuleFixtures.scan(["front-end", "back-end", "firewall-stopped"])
        let (powershell, netsh) = try Self.render(result)
        // Each group is removed before its rules are added.
        let remove = try #require(powershell.range(of: "Get-NetFirewallRule -Group 'ocslog front-end'"))
        let add = try #require(powershell.range(of: "New-NetFirewallRule -Group 'ocslog front-end'"))
        #expect(remove.lowerBound < add.lowerBound)
        #expect(powershell.contains("-Program 'C:\\Program Files\\Microsoft Office Communications Server 2007 R2"))
        // The Back End's SQL ports, marked as documented; the stopped firewall's role gets its documented ports.
        #expect(powershell.contains("-Group 'ocslog back-end'") && powershell.contains("-LocalPort '1433'"))
        #expect(powershell.contains("activation never opens SQL Server ports"))
        #expect(powershell.contains("-Group 'ocslog standard-edition'"))
        #expect(powershell.contains("Windows Firewall was stopped during activation"))
        // netsh: every add is preceded by a delete of the same name.
        func firstQuoted(_ line: String) -> String? {
            line.split(separator: "\"", omittingEmptySubsequences: false).dropFirst().first.map(String.init)
        }
        let lines = netsh.components(separatedBy: "\r\n")
        #expect(lines.contains { $0.hasPrefix("netsh advfirewall firewall add rule name=") })
        for (index, line) in lines.enumerated() where line.hasPrefix("netsh advfirewall firewall add rule name=") {
            #expect(index > 0 && lines[index - 1].hasPrefix("netsh advfirewall firewall delete rule name="))
            #expect(firstQuoted(line) != nil && firstQuoted(line) == firstQuoted(lines[index - 1]))
        }
    }

    static let hostile = [
        "C:\\Program Files\\O'Brien\\x.exe", "C:\\A`b\\$(Remove-Item C:\\ -Recurse)\\x.exe", "C:\\a;b & c ^ d!\\x.exe",
        "C:\\line\nbreak\\x.exe", "C:\\quote\"d\\x.exe", "C:\\%PATH%\\x.exe", "C:\\smart\u{2019}quote\\x.exe",
        "'; Remove-Item C:\\ -Recurse; '", "\\\\server\\share\\RTCSrv.exe",
    ]

    func hostileResult() -> ScanResult {
        let exceptions = Self.hostile.enumerated().compactMap { index, program -> FirewallException? in
            guard let port = Port(rawValue: 5000 + index) else { return nil }
            return FirewallException(
                role: "front-end", protocol: .tcp, range: PortRange(port), interface: nil,
                program: program, service: "Svc `$(whoami)`; \"x\" 'y'\nz %TEMP%", origin: .log,
                evidence: Evidence(path: "logs/evil\";$(x).log", line: index + 1), note: nil)
        }
        return ScanResult(
            inputs: [], exceptions: exceptions, findings: [], notUnderstood: [],
            summary: .init(errors: 0, warnings: 0, exceptions: exceptions.count, roles: ["front-end"]))
    }

    @Test func powershellQuotingKeepsHostileTextInert() throws {
        let (powershell, _) = try Self.render(hostileResult())
        for line in powershell.split(separator: "\n") where line.hasPrefix("New-NetFirewallRule") {
            // Outside single-quoted strings only the command's own words remain.
            var outside = ""
            var inQuote = false
            var characters = Array(line)
            characters.append(" ")
            var index = 0
            while index < characters.count - 1 {
                let character = characters[index]
                let isQuote = "'\u{2018}\u{2019}\u{201A}\u{201B}".contains(character)
                if inQuote {
                    if isQuote {
                        if "'\u{2018}\u{2019}\u{201A}\u{201B}".contains(characters[index + 1]) {
                            index += 2
                            continue
                        }
                        inQuote = false
                    }
                } else if isQuote {
                    inQuote = true
                } else {
                    outside.append(character)
                }
                index += 1
            }
            #expect(!inQuote, "every string is closed: \(line)")
            #expect(
                outside.allSatisfy { $0.isLetter || $0.isNumber || " -|".contains($0) },
                "only parameters outside quotes: \(outside)")
        }
        #expect(!powershell.contains("\nbreak"), "no line break from a log")
        // Valid paths with quotes, backticks and $(…) are kept, quoted; invalid ones are left out.
        #expect(powershell.contains("-Program 'C:\\Program Files\\O''Brien\\x.exe'"))
        #expect(powershell.contains("-Program 'C:\\A`b\\$(Remove-Item C:\\ -Recurse)\\x.exe'"))
        #expect(powershell.contains("-Program 'C:\\smart''quote\\x.exe'"))
        #expect(!powershell.contains("quote\"d") && !powershell.contains("line break"))
        #expect(powershell.contains("-Program '\\\\server\\share\\RTCSrv.exe'"))
        #expect(!powershell.contains("Remove-Item C:\\ -Recurse; '"), "a non-path program is never a program")
    }

    @Test func netshQuotingKeepsHostileTextInert() throws {
        let (_, netsh) = try Self.render(hostileResult())
        for line in netsh.components(separatedBy: "\r\n") where line.hasPrefix("netsh ") {
            #expect(line.filter { $0 == "\"" }.count % 2 == 0, "balanced quotes: \(line)")
            // Outside double quotes: no cmd metacharacters.
            var outside = ""
            var inQuote = false
            for character in line {
                if character == "\"" {
                    inQuote.toggle()
                } else if !inQuote {
                    outside.append(character)
                }
            }
            let withoutRedirect = outside.replacingOccurrences(of: ">nul 2>&1", with: "")
            #expect(!withoutRedirect.contains { "&|<>^%`$;()\n".contains($0) }, "outside quotes: \(outside)")
            // Inside quotes: % is always doubled (no variable expansion in a script).
            var percents = 0
            for character in line where character == "%" { percents += 1 }
            #expect(percents % 2 == 0)
        }
        #expect(netsh.contains("program=\"C:\\a;b & c ^ d!\\x.exe\""))
        #expect(netsh.contains("program=\"C:\\%%PATH%%\\x.exe\"") == false, "a % inside a path is not a valid program")
        #expect(!netsh.contains("line\nbreak") && !netsh.contains("quote\"d"))
    }

    @Test func programPathValidation() {
        #expect(WindowsPlan.validProgramPath("C:\\Program Files\\x\\RTCSrv.exe") != nil)
        #expect(WindowsPlan.validProgramPath("%ProgramFiles%\\x\\RTCSrv.exe") != nil)
        #expect(WindowsPlan.validProgramPath("RTCSrv.exe") == nil, "not a full path")
        #expect(WindowsPlan.validProgramPath("C:\\x\\a?.exe") == nil)
        #expect(WindowsPlan.validProgramPath("C:\\x\\a.dll") == nil)
        #expect(WindowsPlan.validProgramPath("C:\\x\n\\a.exe") == nil)
    }
}
