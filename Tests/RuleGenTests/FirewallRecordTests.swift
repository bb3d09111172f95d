import Foundation
import Knowledge
import LogParser
import ScanModel
import TestSupport
import Testing

@testable import RuleGen

/// The Windows Firewall's own record, proven by generation: random rules — open or not, OCS's or
/// Windows', TCP, UDP, ICMP or any protocol, port lists, ranges and keywords, remote addresses as
/// addresses, prefixes, masks, ranges and keywords — rendered in every shape the record comes in
/// (a `reg export` of rule strings in UTF-16LE, `netsh advfirewall … verbose` in English and
/// German, firewall events as XML with later changes and deletions), read back and compared
/// exactly with what each rule opens. The oracle is the model the rules were made from.
@Suite struct FirewallRecordTests {
    struct Remote {
        /// The canonical prefix ocslog must report (`192.0.2.0/24`, `192.0.2.7`), or a keyword.
        var canonical: String
        /// How the record writes it.
        var written: String
    }

    struct Rule {
        var id: String
        var name: String
        var ocs: Bool
        var allow = true
        var enabled = true
        var inbound = true
        var protocolNumber: Int?
        var ports: [(Int, Int)] = []
        var keyword: String?
        var remote: [Remote] = []
        var program: String?
        var profiles: [String] = []
        /// Events only: deleted by a later event, or modified to other ports.
        var deleted = false
        var modifiedPorts: [(Int, Int)]?

        var opens: Bool { allow && enabled && inbound && !deleted }
        var transports: [String] {
            switch protocolNumber {
            case 6?: ["tcp"]
            case 17?: ["udp"]
            default: []
            }
        }

        /// Whether it is a block rule in force that blocks this port range (block rules win on
        /// Windows; one whose ports are a keyword is taken to block every port).
        func blocks(_ transport: String, _ range: (Int, Int), from other: [Remote]) -> Bool {
            guard !allow, enabled, inbound, !deleted else { return false }
            guard protocolNumber == nil || transports == [transport] else { return false }
            guard Self.mayMeet(remote, other) else { return false }
            let own = modifiedPorts ?? ports
            if keyword != nil || own.isEmpty { return true }
            return own.contains { $0.0 <= range.1 && range.0 <= $0.1 }
        }

        /// Whether two remote scopes may share an address (an independent model of the generated
        /// addresses: IPv4 prefixes of /24 or longer spelled out, IPv6 /32, /40, /48 by their groups).
        static func mayMeet(_ lhs: [Remote], _ rhs: [Remote]) -> Bool {
            if lhs.isEmpty || rhs.isEmpty { return true }
            if (lhs + rhs).contains(where: { $0.canonical == "LocalSubnet" }) { return true }
            func v4(_ remote: [Remote]) -> Set<String> {
                var all = Set<String>()
                for item in remote where !item.canonical.contains(":") {
                    let parts = item.canonical.split(separator: "/")
                    let octets = parts[0].split(separator: ".").compactMap { Int($0) }
                    let length = parts.count > 1 ? Int(parts[1])! : 32
                    for host in 0..<(1 << (32 - length)) {
                        all.insert("\(octets[0]).\(octets[1]).\(octets[2]).\(octets[3] + host)")
                    }
                }
                return all
            }
            func v6(_ remote: [Remote]) -> [(group: Int, length: Int)] {
                remote.filter { $0.canonical.contains(":") }.map { item in
                    let length = Int(item.canonical.split(separator: "/")[1])!
                    let groups = item.canonical.split(separator: ":")
                    return (length == 32 ? 0 : Int(groups[2], radix: 16)!, length)
                }
            }
            if !v4(lhs).isDisjoint(with: v4(rhs)) { return true }
            for a in v6(lhs) {
                for b in v6(rhs) {
                    let length = min(a.length, b.length)
                    if length == 32 || a.group >> (48 - length) == b.group >> (48 - length) { return true }
                }
            }
            return false
        }

        /// What it must open, among `rules` (whose block rules win): `tcp 5061-5061 from 192.0.2.0/24`
        /// (the remote sorted).
        func expected(among rules: [Rule]) -> [String] {
            guard opens else { return [] }
            let from = remote.isEmpty ? "" : " from " + Set(remote.map(\.canonical)).sorted().joined(separator: ",")
            return transports.flatMap { transport in
                (modifiedPorts ?? ports).filter { range in !rules.contains { $0.blocks(transport, range, from: remote) }
                }
                .map { "\(transport) \($0.0)-\($0.1)\(from)" }
            }
        }
    }

    static func generateRule(_ index: Int, random: inout SeededRandom) -> Rule {
        let ocs = Bool.random(using: &random)
        let ocsNames = [
            "Office Communications Server 2007 R2 Front End", "Lync Server RTCSRV", "Office Communications Server A/V",
            "Skype for Business Server Web Conferencing", "Lync Server 2010 - Edge",
        ]
        let name =
            ocs
            ? "\(ocsNames.randomElement(using: &random)!) (\(index))" : "@FirewallAPI.dll,-\(28000 + index)"
        var rule = Rule(id: "{6A1B2C3D-\(String(format: "%04X", index))-4000-8000-00000000A000}", name: name, ocs: ocs)
        if !ocs && Bool.random(using: &random) { rule.id = "FPS-Generated-\(index)-In-TCP" }
        rule.allow = Int.random(in: 0..<6, using: &random) != 0
        rule.enabled = Int.random(in: 0..<5, using: &random) != 0
        rule.inbound = Int.random(in: 0..<5, using: &random) != 0
        rule.protocolNumber = [6, 6, 6, 17, 17, 1, 58, nil].randomElement(using: &random)!
        if rule.protocolNumber == 6 || rule.protocolNumber == 17 {
            var used = Set<Int>()
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let low = Int.random(in: 1...65000, using: &random)
                guard used.insert(low).inserted else { continue }
                let high = Bool.random(using: &random) ? low : min(65535, low + Int.random(in: 1...500, using: &random))
                rule.ports.append((low, high))
            }
            if Int.random(in: 0..<6, using: &random) == 0 {
                rule.keyword = ["RPC", "RPC-EPMap", "Teredo"].randomElement(using: &random)!
            }
        }
        if Int.random(in: 0..<3, using: &random) == 0 {
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                rule.remote.append(Self.remote(random: &random))
            }
            if Int.random(in: 0..<5, using: &random) == 0 {
                rule.remote.append(Remote(canonical: "LocalSubnet", written: "LocalSubnet"))
            }
        }
        if ocs {
            let programs = ["RTCSrv.exe", "IMMCUSvc.exe", "MediaRelaySvc.exe", "DataMCUSvc.exe"]
            rule.program =
                #"C:\Program Files\Microsoft Office Communications Server 2007 R2\Server\Core\"#
                + programs.randomElement(using: &random)!
        } else if Bool.random(using: &random) {
            rule.program = Bool.random(using: &random) ? "System" : #"%SystemRoot%\system32\svchost.exe"#
        }
        let profiles = ["Domain", "Private", "Public"]
        rule.profiles = profiles.filter { _ in Bool.random(using: &random) }
        return rule
    }

    /// A documentation address or prefix, written as an address, a prefix, a mask or a range.
    static func remote(random: inout SeededRandom) -> Remote {
        if Int.random(in: 0..<4, using: &random) == 0 {
            // A prefix without host bits: for /40 the third group's low byte is zero.
            let length = [32, 40, 48].randomElement(using: &random)!
            let group =
                length == 40
                ? Int.random(in: 1...0xFF, using: &random) << 8 : Int.random(in: 1...0xFFFF, using: &random)
            let text = length <= 32 ? "2001:db8::/\(length)" : "2001:db8:\(String(group, radix: 16))::/\(length)"
            return Remote(canonical: text, written: text)
        }
        let base = ["192.0.2", "198.51.100", "203.0.113"].randomElement(using: &random)!
        let length = [24, 25, 26, 28, 30, 32].randomElement(using: &random)!
        let size = 1 << (32 - length)
        let start = Int.random(in: 0..<(256 / size), using: &random) * size
        let canonical = length == 32 ? "\(base).\(start)" : "\(base).\(start)/\(length)"
        let mask = (0..<4).map { byte -> String in
            let bits = max(0, min(8, length - byte * 8))
            return String(bits == 0 ? 0 : (0xFF << (8 - bits)) & 0xFF)
        }.joined(separator: ".")
        let forms =
            length == 32
            ? ["\(base).\(start)", "\(base).\(start)/32", "\(base).\(start)/255.255.255.255"]
            : [
                "\(base).\(start)/\(length)", "\(base).\(start)/\(mask)",
                "\(base).\(start)-\(base).\(start + size - 1)",
            ]
        return Remote(canonical: canonical, written: forms.randomElement(using: &random)!)
    }

    // MARK: - Shapes

    static func ruleString(_ rule: Rule, random: inout SeededRandom) -> String {
        var fields = [
            "Action=\(rule.allow ? "Allow" : "Block")", "Active=\(rule.enabled ? "TRUE" : "FALSE")",
            "Dir=\(rule.inbound ? "In" : "Out")", "Name=\(rule.name)",
        ]
        if let number = rule.protocolNumber { fields.append("Protocol=\(number)") }
        for port in rule.ports {
            let text = port.0 == port.1 ? "\(port.0)" : "\(port.0)-\(port.1)"
            fields.append(port.0 == port.1 && Bool.random(using: &random) ? "LPort=\(text)" : "LPort2_10=\(text)")
        }
        if let keyword = rule.keyword { fields.append("LPort=\(keyword)") }
        for remote in rule.remote {
            fields.append(
                (remote.written.contains(":") && remote.written != "LocalSubnet" ? "RA6=" : "RA4=") + remote.written)
        }
        for profile in rule.profiles { fields.append("Profile=\(profile)") }
        if let program = rule.program { fields.append("App=\(program)") }
        fields.append(#"Desc=Generated rule with a "quoted" word and a \ backslash"#)
        if !rule.ocs { fields.append("EmbedCtxt=@FirewallAPI.dll,-28502") }
        fields.shuffle(using: &random)
        return "v2.10|" + fields.joined(separator: "|") + "|"
    }

    static func registryExport(_ rules: [Rule], random: inout SeededRandom) -> [UInt8] {
        let key = #"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy"#
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var lines = [
            "Windows Registry Editor Version 5.00", "", "[\(key)\\DomainProfile]", "\"EnableFirewall\"=dword:00000001",
            "", "[\(key)\\FirewallRules]",
        ]
        for rule in rules { lines.append(quoted(rule.id) + "=" + quoted(ruleString(rule, random: &random))) }
        lines += [
            "", "[\(key)\\RestrictedServices\\Static\\System]",
            #""Gen-Deny"="v2.10|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=1|App=System|Name=Restricted|""#,
            "\"Wrapped\"=hex(7):43,00,3a,00,\\", "  00,00", "",
        ]
        let text = lines.joined(separator: "\r\n") + "\r\n"
        return [0xFF, 0xFE] + Array(text.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }

    /// `reg query …\FirewallRules` as cmd.exe prints it (values unescaped), in the console's code page.
    static func registryQuery(_ rules: [Rule], random: inout SeededRandom) -> [UInt8] {
        let key = #"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy"#
        var lines = ["", "\(key)\\FirewallRules"]
        for rule in rules { lines.append("    \(rule.id)    REG_SZ    \(ruleString(rule, random: &random))") }
        lines += ["", "\(key)\\FirewallRules\\Sub", "    Flag    REG_DWORD    0x1", ""]
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    static func netsh(_ rules: [Rule], german: Bool, random: inout SeededRandom) -> [UInt8] {
        let labels =
            german
            ? [
                "Regelname", "Beschreibung", "Aktiviert", "Richtung", "Profile", "Gruppierung", "Lokale IP",
                "Remote-IP",
                "Protokoll", "Lokaler Port", "Remoteport", "Edgeausnahme", "Programm", "Dienst", "Aktion",
            ]
            : [
                "Rule Name", "Description", "Enabled", "Direction", "Profiles", "Grouping", "LocalIP", "RemoteIP",
                "Protocol", "LocalPort", "RemotePort", "Edge traversal", "Program", "Service", "Action",
            ]
        let yes = german ? "Ja" : "Yes"
        let no = german ? "Nein" : "No"
        let any = german ? "Beliebig" : "Any"
        func line(_ label: Int, _ value: String) -> String {
            (labels[label] + ":").padding(toLength: 38, withPad: " ", startingAt: 0) + value
        }
        var blocks: [String] = []
        for rule in rules {
            var out = [line(0, rule.name), String(repeating: "-", count: 70)]
            out.append(line(1, "Generated"))
            out.append(line(2, rule.enabled ? yes : no))
            out.append(line(3, rule.inbound ? (german ? "Eingehend" : "In") : (german ? "Ausgehend" : "Out")))
            out.append(line(4, rule.profiles.isEmpty ? "Domain,Private,Public" : rule.profiles.joined(separator: ",")))
            out.append(line(5, rule.ocs ? "Office Communications Server" : "Core Networking"))
            out.append(line(6, german ? "Beliebig" : "Any"))
            out.append(
                line(
                    7,
                    rule.remote.isEmpty
                        ? (german ? "Beliebig" : "Any") : rule.remote.map(\.written).joined(separator: ",")))
            let protocolName: String =
                switch rule.protocolNumber {
                case 6?: "TCP"
                case 17?: "UDP"
                case 1?: "ICMPv4"
                case 58?: "ICMPv6"
                default: german ? "Beliebig" : "Any"
                }
            out.append(line(8, protocolName))
            if rule.protocolNumber == 1 || rule.protocolNumber == 58 {
                out.append(String(repeating: " ", count: 38) + "Type    Code")
                out.append(String(repeating: " ", count: 38) + "8       Any    ")
            }
            if rule.protocolNumber == 6 || rule.protocolNumber == 17 {
                let ports =
                    rule.ports.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)-\($0.1)" } + (rule.keyword.map { [$0] } ?? [])
                out.append(line(9, ports.isEmpty ? any : ports.joined(separator: ",")))
                out.append(line(10, any))
            }
            out.append(line(11, no))
            out.append(line(12, rule.program ?? any))
            out.append(line(13, any))
            out.append(line(14, rule.allow ? (german ? "Zulassen" : "Allow") : (german ? "Blockieren" : "Block")))
            blocks.append(out.joined(separator: "\r\n"))
        }
        let text = "\r\n" + blocks.joined(separator: "\r\n\r\n") + "\r\nOk.\r\n\r\n"
        if Bool.random(using: &random) {
            return [0xFF, 0xFE] + Array(text.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        }
        return Array(text.utf8)
    }

    static func eventXML(_ rules: [Rule], random: inout SeededRandom) -> [UInt8] {
        func data(_ rule: Rule, ports: [(Int, Int)]) -> String {
            func item(_ name: String, _ value: String) -> String {
                let escaped = value.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(
                    of: "<", with: "&lt;")
                return "<Data Name='\(name)'>\(escaped)</Data>"
            }
            let portText =
                (ports.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)-\($0.1)" } + (rule.keyword.map { [$0] } ?? []))
            let profiles =
                rule.profiles.isEmpty
                ? 2_147_483_647
                : rule.profiles.reduce(0) {
                    $0 | ($1 == "Domain" ? 1 : $1 == "Private" ? 2 : 4)
                }
            return [
                item("RuleId", rule.id), item("RuleName", rule.name), item("Origin", "1"),
                item("ApplicationPath", rule.program ?? ""), item("ServiceName", ""),
                item("Direction", rule.inbound ? "1" : "2"),
                item("Protocol", rule.protocolNumber.map(String.init) ?? "256"),
                item("LocalPorts", portText.isEmpty ? "*" : portText.joined(separator: ",")), item("RemotePorts", "*"),
                item("Action", rule.allow ? "3" : "2"), item("Profiles", String(profiles)),
                item("LocalAddresses", "*"),
                item("RemoteAddresses", rule.remote.isEmpty ? "*" : rule.remote.map(\.written).joined(separator: ",")),
                item("EmbeddedContext", rule.ocs ? "Office Communications Server" : "@FirewallAPI.dll,-28502"),
                item("Active", rule.enabled ? "1" : "0"),
            ].joined()
        }
        func event(_ id: Int, _ second: Int, _ body: String) -> String {
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
                + "<Provider Name='Microsoft-Windows-Windows Firewall With Advanced Security' Guid='{D1BC9AFF-2ABF-4D71-9146-ECB2A986EB85}'/>"
                + "<EventID>\(id)</EventID><Level>4</Level>"
                + "<TimeCreated SystemTime='2011-03-14T09:\(String(format: "%02d", second / 60)):\(String(format: "%02d", second % 60)).000000000Z'/>"
                + "<Computer>fe09.example.com</Computer></System><EventData>\(body)</EventData></Event>"
        }
        var events: [(Int, String)] = []
        for (index, rule) in rules.enumerated() {
            events.append((index, event(2004, index, data(rule, ports: rule.ports))))
            if let modified = rule.modifiedPorts {
                events.append((100 + index, event(2005, 100 + index, data(rule, ports: modified))))
            }
            if rule.deleted {
                events.append(
                    (
                        200 + index,
                        event(
                            2006, 200 + index,
                            "<Data Name='RuleId'>\(rule.id)</Data><Data Name='RuleName'>\(rule.name)</Data>")
                    ))
            }
        }
        // wevtutil lists oldest first, Get-WinEvent newest first: the order must not matter.
        if Bool.random(using: &random) { events.reverse() }
        let separator = Bool.random(using: &random) ? "\r\n" : ""
        return Array((events.map(\.1).joined(separator: separator) + "\r\n").utf8)
    }

    // MARK: - The comparison

    static func read(_ bytes: [UInt8], name: String) throws -> ScanResult {
        let analyzer = Analyzer(knowledge: try RuleFixtures.knowledge)
        try analyzer.analyze(InputFile(path: name, contents: bytes))
        return analyzer.result()
    }

    static func opened(_ exceptions: [FirewallException]) -> [String] {
        exceptions.filter { $0.origin == .firewall }.map {
            "\($0.protocol) \($0.portFrom)-\($0.portTo)"
                + ($0.remote.map { " from " + $0.sorted().joined(separator: ",") } ?? "")
        }.sorted()
    }

    @Test(arguments: ["reg", "reg-query", "netsh", "netsh-de", "xml"])
    func everyShapeReadsExactlyWhatEachRuleOpens(shape: String) throws {
        let seed = ProcessInfo.processInfo.environment["OCSLOG_FIREWALL_SEED"].flatMap(UInt64.init) ?? 0xF1_4E_A1_1
        var random = SeededRandom(state: seed &+ UInt64(shape.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        var checked = 0
        for round in 0..<40 {
            var rules = (0..<Int.random(in: 1...8, using: &random)).map {
                Self.generateRule(round * 10 + $0, random: &random)
            }
            if shape == "xml" {
                for index in rules.indices {
                    if Int.random(in: 0..<5, using: &random) == 0 { rules[index].deleted = true }
                    if rules[index].protocolNumber == 6 || rules[index].protocolNumber == 17,
                        Int.random(in: 0..<5, using: &random) == 0
                    {
                        let low = Int.random(in: 1...60000, using: &random)
                        rules[index].modifiedPorts = [(low, low + Int.random(in: 0...3, using: &random))]
                    }
                }
            }
            let bytes: [UInt8] =
                switch shape {
                case "reg": Self.registryExport(rules, random: &random)
                case "reg-query": Self.registryQuery(rules, random: &random)
                case "netsh": Self.netsh(rules, german: false, random: &random)
                case "netsh-de": Self.netsh(rules, german: true, random: &random)
                default: Self.eventXML(rules, random: &random)
                }
            let result = try Self.read(bytes, name: "round\(round).\(shape)")
            let context = "\(shape) round \(round) (seed \(seed))"
            #expect(
                result.findings.filter { $0.signature == "firewall-rule-not-read" }.isEmpty,
                "\(context): \(result.findings.map(\.title))")
            let wantOCS = rules.filter(\.ocs).flatMap { $0.expected(among: rules) }.sorted()
            let wantOther = rules.filter { !$0.ocs }.flatMap { $0.expected(among: rules) }.sorted()
            #expect(Self.opened(result.exceptions) == Self.dedupe(wantOCS), "\(context): OCS's open ports")
            #expect(
                Self.opened(result.otherExceptions ?? []) == Self.dedupe(wantOther),
                "\(context): other rules' open ports")
            // Every rule that opens nothing says why.
            let notes = result.firewallRules ?? []
            for rule in rules where !rule.opens {
                let status =
                    rule.deleted ? "deleted" : !rule.enabled ? "disabled" : !rule.inbound ? "outbound" : "block"
                #expect(
                    notes.contains { $0.rule == rule.name && $0.status == status }, "\(context): \(rule.name) \(status)"
                )
            }
            // The ruleset accepts exactly what the rules open: each port from exactly the addresses
            // its rule names (a keyword's addresses never), nothing else.
            var everything = RuleOptions()
            everything.allFirewallRules = true
            let plan = RulePlan.build(from: result, knowledge: try RuleFixtures.knowledge, options: everything)
            var model: [(transport: String, low: Int, high: Int, from: String)] = []
            for item in Self.dedupe(wantOCS + wantOther) {
                let parts = item.split(separator: " ", maxSplits: 3).map(String.init)
                let bounds = parts[1].split(separator: "-").compactMap { Int($0) }
                let from = parts.count > 3 ? parts[3] : ""
                guard !from.contains("LocalSubnet") else { continue }
                model.append((parts[0], bounds[0], bounds[1], from))
            }
            var accepted: [(transport: String, low: Int, high: Int, from: String)] = []
            for chain in plan.chains {
                for element in chain.elements + chain.scoped {
                    accepted.append(
                        (
                            element.transport.rawValue, Int(element.range.lowerBound.rawValue),
                            Int(element.range.upperBound.rawValue),
                            element.sources.map(\.description).sorted().joined(separator: ",")
                        ))
                }
            }
            for item in accepted {
                for port in item.low...item.high
                where !model.contains(where: {
                    $0.transport == item.transport && $0.from == item.from && $0.low <= port && port <= $0.high
                }) {
                    Issue.record(
                        "\(context): the ruleset accepts \(item.transport) \(port) from '\(item.from)', no rule opens it"
                    )
                    break
                }
            }
            for item in model
            where !accepted.contains(where: {
                $0.transport == item.transport && ($0.from == item.from || $0.from.isEmpty) && $0.low <= item.low
                    && item.high <= $0.high
            }) {
                Issue.record(
                    "\(context): \(item.transport) \(item.low)-\(item.high) from '\(item.from)' is open but not accepted"
                )
            }
            checked += rules.count
            if round % 10 == 0 {
                // What the record opens makes valid rulesets, OCS's and everyone's.
                var options = RuleOptions()
                options.allFirewallRules = true
                let rendered = try RuleFixtures.render(result, options)
                let nft = try RuleFixtures.checkNFT(rendered.nft)
                #expect(nft.status == 0, "\(context): \(nft.output)")
                for (text, tool) in [(rendered.v4, "iptables-restore"), (rendered.v6, "ip6tables-restore")] {
                    let check = try RuleFixtures.checkIPTables(text, tool: tool)
                    #expect(check.status == 0, "\(context) \(tool): \(check.output)")
                }
            }
        }
        #expect(checked > 100)
    }

    /// The same port of one rule written twice (two LPort fields) is one exception.
    static func dedupe(_ items: [String]) -> [String] { Array(Set(items)).sorted() }
}

/// Hostile and broken firewall records: each gives a clear note naming the line, opens nothing it
/// cannot read, and never makes a broken ruleset.
@Suite struct HostileFirewallRecordTests {
    static let key = #"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy"#

    static func registry(_ values: [String]) -> [UInt8] {
        let text =
            (["Windows Registry Editor Version 5.00", "", "[\(key)\\FirewallRules]"] + values)
            .joined(separator: "\r\n") + "\r\n"
        return [0xFF, 0xFE] + Array(text.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }

    static func notRead(_ result: ScanResult) -> [(line: Int, title: String)] {
        result.findings.filter { $0.signature == "firewall-rule-not-read" }.flatMap { finding in
            finding.evidence.map { ($0.line, finding.title) }
        }
    }

    @Test func aBarInsideANameIsNotReadAndOpensNothing() throws {
        // The grammar has no escape for "|": "Name=Lync|LPort=1-65535|" would smuggle a field in.
        let bytes = Self.registry([
            #""{A}"="v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5061|Name=Lync | Edge|App=C:\\x\\RTCSrv.exe|""#,
            #""{B}"="v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5062|Name=Lync Server IM|""#,
        ])
        let result = try FirewallRecordTests.read(bytes, name: "bar.reg")
        #expect(FirewallRecordTests.opened(result.exceptions) == ["tcp 5062-5062"])
        let problems = Self.notRead(result)
        #expect(problems.count == 1 && problems[0].line == 4, "\(problems)")
        #expect(problems.first?.title.contains("'|'") == true)
    }

    @Test func anUnterminatedValueAndPortsOutOfRangeAreNotedNeverOpened() throws {
        let bytes = Self.registry([
            #""{A}"="v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5061|Name=Lync Server SIP|"#,
            #""{B}"="v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=70000|Name=Lync Server big|""#,
            #""{C}"="v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort2_10=6000-5000|Name=Lync Server back|""#,
            #""{D}"="v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=999|LPort=5063|Name=Lync Server proto|""#,
            #""{E}"="v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=17|LPort=3478|Name=Lync Server STUN|""#,
        ])
        let result = try FirewallRecordTests.read(bytes, name: "broken.reg")
        #expect(FirewallRecordTests.opened(result.exceptions) == ["udp 3478-3478"])
        let lines = Self.notRead(result).map(\.line).sorted()
        #expect(lines == [4, 5, 6, 7], "\(Self.notRead(result))")
        let rendered = try RuleFixtures.render(result, RuleOptions())
        #expect(try RuleFixtures.checkNFT(rendered.nft).status == 0)
    }

    @Test func anXMLExportWithADTDAndEntitiesIsNeverExpanded() throws {
        let laughs = (1...9).map { "<!ENTITY l\($0) \"" + String(repeating: "&l\($0 - 1);", count: 10) + "\">" }
        let text = """
            <?xml version="1.0"?>
            <!DOCTYPE Events [<!ENTITY l0 "5061"> \(laughs.joined(separator: " ")) <!ENTITY port SYSTEM "file:///etc/passwd">]>
            <Events>
            <Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Windows Firewall With Advanced Security'/><EventID>2004</EventID><TimeCreated SystemTime='2011-03-14T09:42:31Z'/><Computer>fe01</Computer></System><EventData><Data Name='RuleId'>{A}</Data><Data Name='RuleName'>Lync Server &l9;</Data><Data Name='Direction'>1</Data><Data Name='Protocol'>6</Data><Data Name='LocalPorts'>&port;</Data><Data Name='Action'>3</Data><Data Name='RemoteAddresses'>*</Data><Data Name='Active'>1</Data></EventData></Event>
            <Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Windows Firewall With Advanced Security'/><EventID>2004</EventID><TimeCreated SystemTime='2011-03-14T09:42:32Z'/><Computer>fe01</Computer></System><EventData><Data Name='RuleId'>{B}</Data><Data Name='RuleName'>Lync Server &amp; IM</Data><Data Name='Direction'>1</Data><Data Name='Protocol'>6</Data><Data Name='LocalPorts'>&#53;&#48;&#54;&#50;</Data><Data Name='Action'>3</Data><Data Name='RemoteAddresses'>*</Data><Data Name='Active'>1</Data></EventData></Event>
            </Events>

            """
        let result = try FirewallRecordTests.read(Array(text.utf8), name: "dtd.xml")
        // Character references are text; named entities the DTD defines are never expanded.
        #expect(FirewallRecordTests.opened(result.exceptions) == ["tcp 5062-5062"])
        #expect(Self.notRead(result).count == 1)
        #expect(result.inputs.first?.format == .eventXML)
    }

    @Test func aHundredThousandRuleExportIsReadWithItsListsBounded() throws {
        var values: [String] = []
        for index in 0..<100_000 {
            let port = 1024 + index % 60_000
            let name = index % 2 == 0 ? "Lync Server rule \(index)" : "@FirewallAPI.dll,-\(index)"
            // Every fourth rule is open to one address only: a rule of its own in the ruleset.
            let scope = index % 4 == 0 ? "RA4=192.0.2.\(index % 256)|" : ""
            values.append(
                "\"{R\(index)}\"=\"v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=\(index % 3 == 0 ? 17 : 6)|LPort=\(port)|\(scope)Name=\(name)|\""
            )
        }
        let start = Date()
        let result = try FirewallRecordTests.read(Self.registry(values), name: "huge.reg")
        let seconds = Date().timeIntervalSince(start)
        #expect(result.inputs.first?.lines == 100_003)
        #expect(result.exceptions.count + (result.otherExceptions?.count ?? 0) > 50_000)
        #expect(result.firewallRules?.count == ScanResult.maximumFirewallNotes)
        #expect(result.firewallRulesLeftOut == 50_000 - ScanResult.maximumFirewallNotes)
        #expect(seconds < 120, "100,000 rules took \(seconds) s")
        // The rulesets stay valid: sets chunked, scoped rules one each. (In an unprivileged user
        // namespace nft's netlink batch holds only a few hundred rules: checked where root.)
        var options = RuleOptions()
        options.allFirewallRules = true
        let rendered = try RuleFixtures.render(result, options)
        #expect(rendered.nft.components(separatedBy: " saddr ").count > 20_000)
        let iptables = try RuleFixtures.checkIPTables(rendered.v4, tool: "iptables-restore")
        #expect(iptables.status == 0, "\(iptables.output.prefix(300))")
        if RuleFixtures.isRoot {
            let nft = try RuleFixtures.checkNFT(rendered.nft)
            #expect(nft.status == 0, "\(nft.output.prefix(300))")
        }
    }
}

/// The corpus's firewall records: the rules they give pass the kernel's checks, and a server whose
/// setup log states exceptions its firewall lacks gets the warning with both evidences.
@Suite struct FirewallCorpusTests {
    @Test(arguments: ["firewall-fe01", "firewall-edge01", "firewall-2003", "firewall-events"])
    func rulesFromFirewallRecordsPassTheChecks(scenario: String) throws {
        let result = try RuleFixtures.scan([scenario])
        #expect(result.exceptions.contains { $0.origin == .firewall })
        for all in [false, true] {
            var options = RuleOptions()
            options.allFirewallRules = all
            let rendered = try RuleFixtures.render(result, options)
            let nft = try RuleFixtures.checkNFT(rendered.nft)
            #expect(nft.status == 0, "\(scenario): \(nft.output)")
            for (text, tool) in [(rendered.v4, "iptables-restore"), (rendered.v6, "ip6tables-restore")] {
                let check = try RuleFixtures.checkIPTables(text, tool: tool)
                #expect(check.status == 0, "\(scenario) \(tool): \(check.output)")
            }
            // A rule open only to LocalSubnet is left out and said so; one open to a prefix is scoped.
            if scenario == "firewall-fe01" {
                #expect(!rendered.nft.contains("5072"))
                #expect(rendered.nft.contains("LocalSubnet"))
                #expect(rendered.nft.contains("ip saddr { 192.0.2.0/24 } tcp dport 8057 accept"))
                #expect(rendered.nft.contains("ip6 saddr { 2001:db8:10::/48 } tcp dport 8057 accept"))
                #expect(rendered.v4.contains("-s 192.0.2.0/24 -p tcp -m tcp --dport 8057"))
                #expect(!rendered.v4.contains("2001:db8") && !rendered.v6.contains("192.0.2.0/24"))
                // Windows' own rules only when asked for.
                #expect(rendered.nft.contains("3389") == all)
            }
            // A port the verbose listing scopes to two addresses is accepted from those only; the
            // listing without scopes gives no port at all.
            if scenario == "firewall-2003" {
                #expect(!rendered.nft.contains("\t\t\t5062 comment"))
                #expect(rendered.nft.contains("ip saddr { 192.0.2.0/24, 192.0.2.200 } tcp dport 5062 accept"))
                #expect(rendered.nft.contains("say who may connect"))
            }
        }
    }

    @Test func setupExceptionsTheFirewallLacksAreWarnedWithBothEvidences() throws {
        let result = try RuleFixtures.scan(["firewall-fe01"])
        let lacking = result.findings.filter { $0.knownIssue == "KI-20" }
        #expect(
            lacking.map(\.title).sorted() == [
                "The firewall lacks an exception setup logged: TCP 5069 (rtcsrv.exe)",
                "The firewall lacks an exception setup logged: TCP 5071 (ocsappserverhost.exe)",
            ])
        for finding in lacking {
            #expect(finding.severity == .warning && finding.server == "fe01.example.com")
            #expect(finding.evidence.count == 2)
            #expect(
                finding.evidence.first?.path.hasSuffix("corpus/logs/firewall-fe01/Activate-EE-FrontEnd.log") == true)
            #expect(finding.evidence.last?.path.hasSuffix("corpus/logs/firewall-fe01/FirewallPolicy.reg") == true)
            #expect(
                finding.fix?.isEmpty == false && finding.explanation?.contains("Security Configuration Wizard") == true)
        }
        #expect(lacking.map { $0.evidence[0].line }.sorted() == [9, 10])
        // The OCS program rules no setup log mentions: notes, not warnings.
        let unlogged = result.findings.filter { $0.knownIssue == "KI-21" }
        #expect(unlogged.count == 2 && unlogged.allSatisfy { $0.severity == .info })
        // A firewall record alone is checked against nothing.
        let alone = try RuleFixtures.scan(["firewall-edge01"])
        #expect(!alone.findings.contains { $0.knownIssue == "KI-20" || $0.knownIssue == "KI-21" })
    }
}

extension FirewallCorpusTests {
    /// The folder `ocslog collect` makes: computer.txt at the top, the firewall record and the logs
    /// in subfolders. Every file takes the server computer.txt names, and setup is checked against
    /// the firewall.
    @Test func aCollectedFolderIsOneServer() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ocslog-FE01-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for folder in ["logs/Administrator", "firewall", "events"] {
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try "Computer: FE01\r\nDNS domain: EXAMPLE.COM\r\n".write(
            to: root.appendingPathComponent("computer.txt"), atomically: true, encoding: .utf8)
        let corpus = RuleFixtures.logs.appendingPathComponent("firewall-fe01")
        try FileManager.default.copyItem(
            at: corpus.appendingPathComponent("FirewallPolicy.reg"),
            to: root.appendingPathComponent("firewall/FirewallPolicy.reg"))
        let setup = try String(contentsOf: corpus.appendingPathComponent("Activate-EE-FrontEnd.log"), encoding: .utf8)
            .replacingOccurrences(of: "Computer: fe01.example.com", with: "Started by: administrator")
        try setup.write(
            to: root.appendingPathComponent("logs/Administrator/Activate.log"), atomically: true, encoding: .utf8)
        let analyzer = Analyzer(knowledge: try RuleFixtures.knowledge)
        let (inputs, errors) = InputFile.expand([root.path])
        #expect(errors.isEmpty)
        for input in inputs { try analyzer.analyze(input) }
        let result = analyzer.result()
        #expect(result.inputs.count == 3)
        #expect(result.inputs.allSatisfy { $0.server == "FE01" }, "\(result.inputs.map { ($0.path, $0.server) })")
        #expect(result.findings.filter { $0.knownIssue == "KI-20" }.count == 2)
    }
}

extension HostileFirewallRecordTests {
    static func event(_ id: Int, _ time: String, _ record: Int, _ data: String) -> String {
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            + "<Provider Name='Microsoft-Windows-Windows Firewall With Advanced Security'/><EventID>\(id)</EventID>"
            + "<TimeCreated SystemTime='\(time)'/><EventRecordID>\(record)</EventRecordID><Computer>fe07.example.com</Computer>"
            + "</System><EventData>\(data)</EventData></Event>"
    }

    static func added(_ id: String, port: Int) -> String {
        "<Data Name='RuleId'>\(id)</Data><Data Name='RuleName'>Lync Server \(id)</Data><Data Name='Direction'>1</Data>"
            + "<Data Name='Protocol'>6</Data><Data Name='LocalPorts'>\(port)</Data><Data Name='Action'>3</Data>"
            + "<Data Name='RemoteAddresses'>*</Data><Data Name='Active'>1</Data>"
    }

    /// Leading zeros are no shorter port; an event listed after a reset that came later is gone;
    /// two events of one second are ordered by their record number.
    @Test func leadingZerosResetsAndEventsOfOneSecond() throws {
        let zeros = Self.registry([
            #""{A}"="v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=0005061|Name=Lync Server zeros|""#
        ])
        let read = try FirewallRecordTests.read(zeros, name: "zeros.reg")
        #expect(read.exceptions.isEmpty && Self.notRead(read).count == 1)

        let events = [
            Self.event(2004, "2011-03-14T09:00:00.000Z", 10, Self.added("{A}", port: 5061)),
            Self.event(2033, "2011-03-14T09:30:00.000Z", 11, ""),
            Self.event(2004, "2011-03-14T10:00:00.000Z", 12, Self.added("{B}", port: 5062)),
            // The same second: added (record 13), then deleted (record 14) — listed newest first.
            Self.event(2006, "2011-03-14T11:00:00.000Z", 14, "<Data Name='RuleId'>{C}</Data>"),
            Self.event(2004, "2011-03-14T11:00:00.000Z", 13, Self.added("{C}", port: 5063)),
        ]
        let result = try FirewallRecordTests.read(Array(events.joined(separator: "\n").utf8), name: "reset.xml")
        #expect(FirewallRecordTests.opened(result.exceptions) == ["tcp 5062-5062"])
        let deleted = (result.firewallRules ?? []).filter { $0.status == "deleted" }.map(\.evidence.line).sorted()
        #expect(deleted == [1, 4])
    }

    /// Rule-change events are history where the server's current rules are read too: the export wins.
    @Test func eventsYieldToTheServersCurrentRecord() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ocslog-fe07-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // The events say 5061 and 5064 were added; the export (later) has 5061 only.
        let events = [
            Self.event(2004, "2011-03-14T09:00:00.000Z", 10, Self.added("{A}", port: 5061)),
            Self.event(2004, "2011-03-14T09:00:01.000Z", 11, Self.added("{D}", port: 5064)),
        ]
        try Data(events.joined(separator: "\n").utf8).write(to: root.appendingPathComponent("Firewall.xml"))
        try Data(
            Self.registry([
                #""{A}"="v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5061|Name=Lync Server {A}|""#
            ])
        ).write(to: root.appendingPathComponent("FirewallPolicy.reg"))
        let analyzer = Analyzer(knowledge: try RuleFixtures.knowledge)
        for input in InputFile.expand([root.path]).inputs { try analyzer.analyze(input) }
        let result = analyzer.result()
        #expect(FirewallRecordTests.opened(result.exceptions) == ["tcp 5061-5061"])
        #expect((result.firewallRules ?? []).filter { $0.status == "superseded" }.count == 2)
    }
}
