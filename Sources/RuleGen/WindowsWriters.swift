import Foundation
import Knowledge
import ScanModel

/// The Windows Firewall rules for the servers themselves, per role: what setup added (or, when
/// Windows Firewall was stopped during activation, what it would have added), and the Back-End
/// SQL ports activation never adds.
public struct WindowsPlan: Sendable {
    /// One inbound allow rule.
    public struct Rule: Sendable, Equatable {
        /// `ocslog front-end`: the group the rule belongs to (a role, validated).
        public var group: String
        /// A display name made only of safe characters ("ocslog front-end: Front-End TCP 5061").
        public var name: String
        public var transport: TransportProtocol
        public var range: PortRange
        /// A program path that passed validation (a Windows path without characters Windows forbids).
        public var program: String?
        /// Evidence and origin, made only of safe characters.
        public var description: String
    }

    public var rules: [Rule]
    /// The inputs the scan read (sanitized), for the header.
    public var inputs: [String]
    /// What the operator should know (a program path left out, ports added from the documentation).
    public var notes: [String]

    /// Builds the plan from a scan result. Roles whose activation added no exception (Windows
    /// Firewall was stopped: known issue KI-01) get their documented ports; so does the Back End
    /// (activation never opens SQL), and, with `documented`, every role found.
    public static func build(
        from result: ScanResult, knowledge: KnowledgeBase, roles wanted: [RoleID], documented: Bool
    ) -> WindowsPlan {
        var rules: [Rule] = []
        var notes: [String] = []
        var seen = Set<String>()
        let wantedSet = Set(wanted)
        func allowed(_ role: RoleID) -> Bool { wantedSet.isEmpty || wantedSet.contains(role) }
        func add(_ rule: Rule) {
            let key = "\(rule.group)|\(rule.transport)|\(rule.range)|\(rule.program ?? "")"
            if seen.insert(key).inserted { rules.append(rule) }
        }
        var leftOut = 0
        for exception in result.exceptions where allowed(exception.role) {
            // A port no log states (a program's documented ports) is opened only when asked for.
            // (What the server's firewall already has is not written again for it.)
            if exception.origin == .firewall { continue }
            if exception.origin != .log && !documented {
                leftOut += 1
                continue
            }
            guard let low = Port(rawValue: exception.portFrom), let high = Port(rawValue: exception.portTo),
                let range = PortRange(low, high)
            else { continue }
            var program: String?
            if let path = exception.program {
                if let valid = validProgramPath(path) {
                    program = valid
                } else {
                    let name = baseName(path)
                    let bare = !path.contains("\\") && !path.contains("/")
                    notes.append(
                        Comment.sanitize(fileLine(exception.evidence))
                            + (bare
                                ? ": names the program \(Comment.sanitize(name)) without its folder, so the rule is by port"
                                : ": the program path is not a valid Windows path, so the rule is by port"))
                }
            }
            let label = exception.service ?? exception.program.map(baseName) ?? "port"
            var description = exception.origin == .log ? "from \(fileLine(exception.evidence))" : "documented port"
            if let interface = exception.interface { description += ", \(interface) interface" }
            add(
                Rule(
                    group: group(exception.role),
                    name: Comment.sanitize(
                        "\(group(exception.role)): \(label) \(exception.protocol.rawValue.uppercased()) \(range)"),
                    transport: exception.protocol, range: range, program: program,
                    description: Comment.sanitize(description)))
        }
        // Roles found with no exception from a log of their own: documented ports, marked so.
        let firewallStopped = Set(result.findings.filter { $0.knownIssue == "KI-01" }.map(\.role))
        let found = Set(result.inputs.map(\.role) + result.exceptions.map(\.role) + wanted)
        for role in found.sorted() where allowed(role) {
            let stopped = firewallStopped.contains(role)
            guard documented || stopped || role == "back-end" else { continue }
            for port in knowledge.ports where port.role == role {
                for transport in port.protocols {
                    let why =
                        role == "back-end"
                        ? "documented port: activation never opens SQL Server ports"
                        : stopped
                            ? "documented port: Windows Firewall was stopped during activation" : "documented port"
                    add(
                        Rule(
                            group: group(role),
                            name: Comment.sanitize(
                                "\(group(role)): \(port.purpose) \(transport.rawValue.uppercased()) \(port.range)"),
                            transport: transport, range: port.range, program: nil, description: Comment.sanitize(why)))
                }
            }
            if stopped {
                notes.append(
                    "\(role): Windows Firewall was stopped during activation, so its documented ports are added")
            }
        }
        if leftOut > 0 {
            notes.append(
                "\(leftOut) port\(leftOut == 1 ? "" : "s") no log line states left out (programs named without a port)"
            )
        }
        rules.sort {
            ($0.group, $0.transport.rawValue, $0.range.lowerBound) < (
                $1.group, $1.transport.rawValue, $1.range.lowerBound
            )
        }
        return WindowsPlan(
            rules: rules, inputs: Set(result.inputs.map { Comment.sanitize($0.path) }).sorted(), notes: notes)
    }

    /// `ocslog ROLE`: the role id is lower-case letters, digits and `-` (roles.yaml), checked again here.
    static func group(_ role: RoleID) -> String {
        "ocslog "
            + String(
                role.rawValue.unicodeScalars.map {
                    ("a"..."z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "-"
                })
    }

    static func fileLine(_ evidence: Evidence) -> String {
        "\(Comment.evidenceFile(evidence)):\(evidence.line)"
    }

    static func baseName(_ path: String) -> String {
        path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? path
    }

    /// The path when it is a plausible Windows program path: a drive (`C:\`), a UNC share or an
    /// environment variable at the start, at most 259 characters, none that Windows forbids in a
    /// path (`"<>|*?` and control characters), and no `%` beyond a leading variable.
    public static func validProgramPath(_ path: String) -> String? {
        let trimmed = path.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 259 else { return nil }
        let scalars = Array(trimmed.unicodeScalars)
        let startsWell: Bool
        if scalars.count >= 3, scalars[0].properties.isAlphabetic, scalars[0].isASCII, scalars[1] == ":",
            scalars[2] == "\\"
        {
            startsWell = true
        } else if trimmed.hasPrefix("\\\\") {
            startsWell = true
        } else if trimmed.hasPrefix("%"), let close = trimmed.dropFirst().firstIndex(of: "%") {
            let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            startsWell = !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        } else {
            startsWell = false
        }
        guard startsWell else { return nil }
        var percents = 0
        for scalar in scalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || "\"<>|*?".unicodeScalars.contains(scalar) { return nil }
            if scalar == "%" { percents += 1 }
        }
        guard percents == 0 || (percents == 2 && trimmed.hasPrefix("%")) else { return nil }
        guard trimmed.lowercased().hasSuffix(".exe") else { return nil }
        return trimmed
    }
}

/// A PowerShell script (`New-NetFirewallRule`, Windows Server 2012 and later): one group per
/// role, removed and added again, so running it twice leaves one copy of each rule.
public enum PowerShellWriter {
    public static func render(_ plan: WindowsPlan, generator: Generator) -> String {
        var out = "# Generated by \(generator.name) \(generator.version) from the firewall exceptions in:\n"
        for input in plan.inputs { out += "#   \(input)\n" }
        out += "# Run in an elevated PowerShell on the server (Windows Server 2012 or later):\n"
        out += "#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\\ocslog-rules.ps1\n"
        out += "# Each group (ocslog ROLE) is removed, then added: running it again replaces, never duplicates.\n"
        for note in plan.notes { out += "# Note: \(Comment.sanitize(note, maximumLength: 300))\n" }
        out += "#Requires -RunAsAdministrator\n$ErrorActionPreference = 'Stop'\n"
        var groups: [String] = []
        for rule in plan.rules where !groups.contains(rule.group) { groups.append(rule.group) }
        for group in groups {
            out +=
                "\nGet-NetFirewallRule -Group \(quote(group)) -ErrorAction SilentlyContinue | Remove-NetFirewallRule\n"
            for rule in plan.rules where rule.group == group {
                var line = "New-NetFirewallRule -Group \(quote(group)) -DisplayName \(quote(rule.name))"
                line += " -Direction Inbound -Action Allow -Protocol \(rule.transport.rawValue.uppercased())"
                line += " -LocalPort \(quote(rule.range.description))"
                if let program = rule.program { line += " -Program \(quote(program))" }
                line += " -Description \(quote(rule.description)) | Out-Null"
                out += line + "\n"
            }
        }
        if groups.isEmpty { out += "# No firewall exception was found: nothing to add.\n" }
        return out
    }

    /// A PowerShell single-quoted string: nothing inside is expanded; every single-quote
    /// character (ASCII and the typographic ones PowerShell also accepts) is doubled.
    public static func quote(_ text: String) -> String {
        var out = "'"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "'", "\u{2018}", "\u{2019}", "\u{201A}", "\u{201B}":
                out += "''"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += " "  // never a line break inside a command
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "'"
    }
}

/// A cmd script of `netsh advfirewall firewall` commands (Windows Server 2008 and 2008 R2).
/// netsh cannot address a rule group, so each rule (named `ocslog ROLE: …`) is deleted by name
/// before it is added: running the script again replaces, never duplicates.
public enum NetshWriter {
    public static func render(_ plan: WindowsPlan, generator: Generator) -> String {
        var out = "@echo off\r\n"
        out += "rem Generated by \(generator.name) \(generator.version) from the firewall exceptions in:\r\n"
        for input in plan.inputs { out += "rem   \(input)\r\n" }
        out += "rem Run from an elevated command prompt on the server (Windows Server 2008 or 2008 R2).\r\n"
        out += "rem Each rule is deleted by name, then added: running it again replaces, never duplicates.\r\n"
        for note in plan.notes { out += "rem Note: \(Comment.sanitize(note, maximumLength: 300))\r\n" }
        out += "setlocal DisableDelayedExpansion\r\n"
        for rule in plan.rules {
            let name = quote(rule.name)
            out += "netsh advfirewall firewall delete rule name=\(name) >nul 2>&1\r\n"
            var line = "netsh advfirewall firewall add rule name=\(name) dir=in action=allow"
            line += " protocol=\(rule.transport.rawValue.uppercased()) localport=\(rule.range.description)"
            if let program = rule.program { line += " program=\(quote(program))" }
            line += " description=\(quote(rule.description)) enable=yes\r\n"
            out += line
        }
        if plan.rules.isEmpty { out += "rem No firewall exception was found: nothing to add.\r\n" }
        out += "endlocal\r\n"
        return out
    }

    /// A cmd.exe double-quoted argument: `%` doubled (no variable expansion in a script), a double
    /// quote or a control character (which a validated value never holds) replaced by a space.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%": out += "%%"
            case "\"": out += " "
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += " "
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
