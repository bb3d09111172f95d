import Foundation
import ScanModel
import Testing

@testable import RuleGen

/// `ocslog collect`: the scripts are golden files, quote every path they name, only read and copy,
/// and gather what `ocslog scan` reads (the firewall export, netsh output, events as XML).
@Suite struct CollectScriptTests {
    static let scripts = CollectScript.Shell.allCases.map {
        ($0, CollectScript.render($0, days: 30, generator: RuleFixtures.generator))
    }

    @Test func goldenFilesForBothShells() throws {
        for (shell, text) in Self.scripts {
            let name = "collect.\(shell == .cmd ? "cmd" : "ps1")"
            let url = RuleFixtures.golden.appendingPathComponent(name)
            if ProcessInfo.processInfo.environment["OCSLOG_UPDATE_GOLDEN"] == "1" {
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
            let expected = try String(contentsOf: url, encoding: .utf8)
            #expect(text == expected, "\(name) differs from its golden file (OCSLOG_UPDATE_GOLDEN=1 rewrites it)")
        }
    }

    /// The parts of a line outside quotes (`"…"`; for PowerShell also `'…'`), comments dropped.
    static func unquoted(_ line: String, shell: CollectScript.Shell) -> [String] {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("#") || trimmed.lowercased().hasPrefix("rem ") { return [] }
        var parts: [String] = []
        var current = ""
        var quote: Character?
        for character in line {
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            if character == "\"" || (shell == .powershell && character == "'") {
                parts.append(current)
                current = ""
                quote = character
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        #expect(quote == nil, "a quote left open: \(line)")
        return parts
    }

    @Test func everyPathIsQuoted() throws {
        // A path: a backslash, the output folder, a drive or profile root, a for-loop's file.
        let markers = ["\\", "%OUT%", "$Out", "%CD%", "%SystemDrive%", "$env:SystemDrive", "%%~f", "$temp", "$target"]
        for (shell, text) in Self.scripts {
            var checked = 0
            for line in text.components(separatedBy: "\r\n") {
                for part in Self.unquoted(line, shell: shell) {
                    for marker in markers where part.contains(marker) {
                        // (PowerShell's "$temp = …" and "[string]$Out = …" name the variable being set.)
                        let assigned = part.trimmingCharacters(in: .whitespaces)
                        if shell == .powershell, marker.hasPrefix("$"),
                            assigned.hasPrefix(marker + " =") || part.contains("[string]\(marker) =")
                        {
                            continue
                        }
                        Issue.record(Comment(rawValue: "\(shell): unquoted \(marker) in: \(line)"))
                    }
                }
                checked += 1
            }
            #expect(checked > 30)
            #expect(!text.contains("\n") || text.components(separatedBy: "\r\n").allSatisfy { !$0.contains("\n") })
        }
    }

    @Test func theScriptsOnlyReadAndCopy() throws {
        let changes = [
            "firewall add", "firewall delete", "firewall set", "advfirewall set", "advfirewall reset", "reg add",
            "reg delete", "reg import", "Remove-Item", "del ", "rmdir", "rd ", "Set-NetFirewall", "New-NetFirewall",
            "wevtutil cl", "wevtutil sl", "sc config", "Stop-Service", "Set-ItemProperty", "Clear-EventLog",
        ]
        for (shell, text) in Self.scripts {
            for change in changes {
                #expect(!text.lowercased().contains(change.lowercased()), "\(shell) holds '\(change)'")
            }
            // What it gathers is what ocslog reads.
            #expect(text.contains("reg") && text.contains("export") && text.contains("FirewallPolicy"))
            #expect(text.contains("advfirewall firewall show rule name=all verbose"))
            #expect(text.contains("firewall show config"))
            #expect(text.contains("/f:xml"))
            for channel in CollectScript.channels { #expect(text.contains(channel), "\(shell): \(channel)") }
            #expect(text.contains("Computer: "))
        }
    }

    /// Where an elevated prompt starts (System32) is no place to write: the default folder is in
    /// the user's profile. PowerShell 2.0 (Windows Server 2008 R2) has no -File or -Directory switch.
    @Test func theDefaultFolderIsTheUsersAndPowerShellTwoRunsIt() {
        for (shell, text) in Self.scripts {
            #expect(!text.contains("%CD%") && !text.contains("Get-Location"), "\(shell)")
            #expect(
                text.contains(shell == .cmd ? "%USERPROFILE%\\ocslog-%COMPUTERNAME%" : "$env:USERPROFILE"), "\(shell)")
            if shell == .powershell {
                #expect(!text.contains(" -File") && !text.contains(" -Directory "), "PowerShell 3.0 switches")
                // Setup logs are copied however old; only events have a time window.
                #expect(!text.contains("LastWriteTime"))
            }
            #expect(text.contains(CollectScript.policyKey), "\(shell): the Group Policy rules")
        }
    }

    @Test func theDaysAreTheQuerysWindow() {
        let week = CollectScript.render(.cmd, days: 7, generator: RuleFixtures.generator)
        #expect(week.contains("timediff(@SystemTime) <= 604800000"))
        let powershell = CollectScript.render(.powershell, days: 7, generator: RuleFixtures.generator)
        #expect(powershell.contains("[int]$Days = 7"))
    }
}
