import Foundation
import Knowledge
import LogParser
import ScanModel
import TestSupport
import Testing

@testable import RuleGen

/// Proof by generation: random exception sets rendered in every shape the field reader knows
/// (HTML tables with and without `<th>`, HTML prose, XML attributes and child elements, MSI
/// key/value lines in a full log and in a fragment, tab- and space-separated columns, plain-text
/// prose, German), in UTF-8, UTF-16LE and Windows-1252, with noise lines full of numbers that are not
/// exceptions. The extracted set must equal the generated set exactly, and the ruleset must open
/// exactly those ports. A failure prints its seed and the log.
@Suite struct ExceptionGeneratorTests {
    /// Cases per run (`OCSLOG_GENERATED_CASES` overrides); each run uses new seeds unless
    /// `OCSLOG_GENERATOR_SEED` fixes the first.
    static let caseCount = Int(ProcessInfo.processInfo.environment["OCSLOG_GENERATED_CASES"] ?? "") ?? 3000
    static let firstSeed: UInt64 =
        UInt64(ProcessInfo.processInfo.environment["OCSLOG_GENERATOR_SEED"] ?? "")
        ?? UInt64(Date().timeIntervalSince1970 * 1000)

    @Test func everyShapeYieldsExactlyTheGeneratedExceptions() throws {
        let started = Date()
        var failures = 0
        var shapes: [String: Int] = [:]
        for offset in 0..<UInt64(Self.caseCount) {
            let seed = Self.firstSeed &+ offset
            var generator = CaseGenerator(seed: seed)
            let generated = generator.makeCase()
            shapes[generated.shape, default: 0] += 1
            let analyzer = Analyzer(
                knowledge: try RuleFixtures.knowledge,
                options: AnalysisOptions(roles: generated.forceRole ? [RoleID(generated.role)] : []))
            try analyzer.analyze(InputFile(path: generated.fileName, contents: generated.bytes))
            let result = analyzer.result()
            let found = Set(
                result.exceptions.filter { $0.origin == .log }.map {
                    Expected(
                        role: $0.role.rawValue, transport: $0.protocol, low: $0.portFrom, high: $0.portTo,
                        side: $0.interface?.rawValue)
                })
            var problems: [String] = []
            if found != generated.expected {
                let missing = generated.expected.subtracting(found).map(\.description).sorted()
                let extra = found.subtracting(generated.expected).map(\.description).sorted()
                problems.append("missing \(missing), extra \(extra)")
            }
            if result.findings.contains(where: { $0.title.contains("not understood") }) {
                problems.append("an entry was reported as not understood")
            }
            // The ruleset opens exactly the generated ports (documented ones are left out).
            let opened = try Self.opened(by: result)
            let wanted = Self.intervals(generated.expected.map { ($0.role, $0.side, $0.transport, $0.low, $0.high) })
            if opened != wanted { problems.append("ruleset opens \(opened), want \(wanted)") }
            if !problems.isEmpty {
                failures += 1
                if failures <= 3 {
                    Issue.record(
                        """
                        seed \(seed) (\(generated.shape), \(generated.encoding)): \(problems.joined(separator: "; "))
                        --- log ---
                        \(generated.text)
                        """)
                }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        print(
            "generated exceptions: \(Self.caseCount) cases from seed \(Self.firstSeed), \(failures) failed, "
                + "\(String(format: "%.1f", seconds)) s; shapes: "
                + shapes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        #expect(failures == 0, "\(failures) of \(Self.caseCount) generated cases failed (first seed \(Self.firstSeed))")
    }

    /// What the ruleset built from a scan (without --documented) opens, as merged intervals.
    static func opened(by result: ScanResult) throws -> [String: [ClosedRange<Int>]] {
        let plan = RulePlan.build(from: result, knowledge: try RuleFixtures.knowledge, options: RuleOptions())
        return intervals(
            plan.chains.flatMap { chain in
                chain.elements.map {
                    (
                        chain.role.rawValue, chain.interface?.rawValue, $0.transport, Int($0.range.lowerBound.rawValue),
                        Int($0.range.upperBound.rawValue)
                    )
                }
            })
    }

    /// Merged port intervals per (role, side, protocol), for comparing what a ruleset opens.
    static func intervals(_ items: [(String, String?, TransportProtocol, Int, Int)]) -> [String: [ClosedRange<Int>]] {
        var grouped: [String: [ClosedRange<Int>]] = [:]
        for (role, side, transport, low, high) in items {
            grouped["\(role) \(side ?? "-") \(transport.rawValue)", default: []].append(low...high)
        }
        return grouped.mapValues { ranges in
            var merged: [ClosedRange<Int>] = []
            for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if let last = merged.last, range.lowerBound <= last.upperBound + 1 {
                    merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
                } else {
                    merged.append(range)
                }
            }
            return merged
        }
    }
}

/// One exception as the tests compare it.
struct Expected: Hashable, CustomStringConvertible {
    var role: String
    var transport: TransportProtocol
    var low: Int
    var high: Int
    var side: String?

    var description: String {
        "\(role) \(transport.rawValue) \(low == high ? "\(low)" : "\(low)-\(high)")" + (side.map { " " + $0 } ?? "")
    }
}

/// SplitMix64: small, seeded, the same on every platform.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// A generated log and what it states.
struct GeneratedCase {
    var shape: String
    var encoding: String
    var role: String
    var forceRole: Bool
    var fileName: String
    var text: String
    var bytes: [UInt8]
    var expected: Set<Expected>
}

/// Renders random exception sets in every shape.
struct CaseGenerator {
    var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(state: seed) }

    /// One exception entry: its items, protocols, name, program and Edge side.
    struct Entry {
        var items: [(Int, Int)]
        var protocols: [TransportProtocol]
        var name: String
        var program: String?
        var side: String?
        /// Program only: no port stated (documented completion, never in a ruleset).
        var programOnly = false
    }

    static let roles: [(id: String, step: String, product: String)] = [
        ("front-end", "Activate Enterprise Edition Server", "Front End Server"),
        ("edge", "Activate Edge Server", "Edge Server"),
        ("mediation", "Activate Mediation Server", "Mediation Server"),
        ("archiving", "Activate Archiving Server", "Archiving Server"),
        ("monitoring", "Activate Monitoring Server", "Monitoring Server"),
        ("director", "Activate Director", "Director"),
    ]
    static let names = [
        "SIP listener", "Conferencing media", "Web Conferencing PSOM", "Message Queuing", "Audio/Video relay",
        "Application Sharing", "Response Group", "Data proxy", "Gateway signalling", "Archiving delivery",
        "Qualität Medien", "Konferenzdienst", "Übermittlung",
    ]
    static let programs = [
        #"C:\Program Files\Microsoft Office Communications Server 2007 R2\Server\Core\RTCSrv.exe"#,
        #"C:\Program Files\Microsoft Office Communications Server 2007 R2\Mediation Server\MediationServerSvc.exe"#,
        #"C:\Programme\Microsoft Office Communications Server 2007 R2\Server\Core\DataMCUSvc.exe"#,
        "AVMCUSvc.exe", "RtcHost.exe",
    ]

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func pick<T>(_ list: [T]) -> T { list[int(0...(list.count - 1))] }
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }

    mutating func makeEntries(edge: Bool) -> [Entry] {
        var entries: [Entry] = []
        var used = Set<String>()
        for _ in 0..<int(1...5) {
            var items: [(Int, Int)] = []
            for _ in 0..<(chance(25) ? int(2...3) : 1) {
                let low = int(1024...60000)
                items.append(chance(30) ? (low, low + int(1...5000)) : (low, low))
            }
            let protocols: [TransportProtocol] = chance(15) ? [.tcp, .udp] : [chance(60) ? .tcp : .udp]
            let key = items.map { "\($0.0)-\($0.1)" }.joined(separator: ",")
            guard used.insert(key).inserted else { continue }
            entries.append(
                Entry(
                    items: items, protocols: protocols, name: pick(Self.names),
                    program: chance(40) ? pick(Self.programs) : nil,
                    side: edge ? (chance(50) ? "external" : "internal") : nil))
        }
        if chance(15) {
            entries.append(
                Entry(items: [], protocols: [], name: pick(Self.names), program: pick(Self.programs), programOnly: true)
            )
        }
        return entries
    }

    // MARK: - Values as logs write them

    mutating func protocolText(_ protocols: [TransportProtocol], german: Bool) -> String {
        if protocols.count == 2 {
            return german ? pick(["TCP und UDP", "TCP/UDP"]) : pick(["TCP and UDP", "TCP/UDP", "both TCP and UDP"])
        }
        let name = protocols[0].rawValue
        return chance(70) ? name.uppercased() : name
    }

    mutating func portsText(_ items: [(Int, Int)], german: Bool) -> String {
        var parts: [String] = []
        for (low, high) in items {
            if low == high {
                parts.append("\(low)")
            } else {
                let dash = german ? pick(["-", "–", " bis "]) : pick(["-", "–", " to ", " through ", " - "])
                parts.append("\(low)\(dash)\(high)")
            }
        }
        guard parts.count > 1 else { return parts[0] }
        let last = parts.removeLast()
        let joiner = german ? " und " : pick([" and ", ", ", " & "])
        return parts.joined(separator: ", ") + joiner + last
    }

    mutating func sideText(_ side: String, german: Bool) -> String {
        if german { return side == "external" ? "externe Schnittstelle" : "interne Schnittstelle" }
        return pick(["on the \(side) interface", "(\(side) interface)", "\(side) edge"])
    }

    // MARK: - Shapes

    /// Prose for one entry, in one of several orders.
    mutating func prose(_ entry: Entry, german: Bool) -> String {
        if entry.programOnly {
            return german
                ? "Firewallausnahme für Programm \(entry.program ?? "") hinzugefügt"
                : "Added firewall exception for program \(entry.program ?? "")"
        }
        let ports = portsText(entry.items, german: german)
        let proto = protocolText(entry.protocols, german: german)
        let side = entry.side.map { " " + sideText($0, german: german) } ?? ""
        if german {
            switch int(0...2) {
            case 0: return "Ausnahme für Port \(ports) (\(proto)) wurde erstellt (\(entry.name))\(side)"
            case 1: return "Für die \(proto)-Anschlüsse \(ports) wurde eine Ausnahme eingerichtet\(side)"
            default: return "Firewallausnahme hinzugefügt: \(entry.name), \(proto) Anschluss \(ports)\(side)"
            }
        }
        let single = entry.items.count == 1 && entry.protocols.count == 1
        switch int(0...(single ? 6 : 5)) {
        case 0: return "Added firewall exception: \(entry.name), \(proto) \(ports)\(side)"
        case 1:
            return
                "Added firewall exception: \(entry.name), port\(entry.items.count > 1 ? "s" : "") \(ports) (\(proto))\(side)"
        case 2: return "Opened \(proto) port\(entry.items.count > 1 ? "s" : "") \(ports) for \(entry.name)\(side)"
        case 3: return "Firewall exception \(entry.name)\(side): port \(ports) over \(proto)"
        case 4: return "\(entry.name)\(side): \(proto) \(ports)"
        case 5:
            // The protocol named before the ports, its key without a separator (Lync 2013's wording).
            let program = entry.program.map { " for program \"\($0)\"" } ?? ""
            let plural = entry.items.count > 1 || entry.items[0].0 != entry.items[0].1 ? "s" : ""
            return
                "Adding firewall rule \"\(entry.name)\"\(program), protocol \(proto), local port\(plural) \(ports)\(side)"
        default:
            let (low, high) = entry.items[0]
            return "\(entry.name)\(side): \(low == high ? "\(low)" : "\(low)-\(high)")/\(proto.lowercased())"
        }
    }

    /// Key/value pairs for one entry, keys and order shuffled.
    mutating func keyValues(_ entry: Entry, german: Bool) -> String {
        var pairs: [(String, String)] = []
        let quote = chance(50)
        func value(_ text: String) -> String { quote || text.contains(" ") ? "\"\(text)\"" : text }
        pairs.append(
            (
                german ? pick(["Name", "Regelname"]) : pick(["Name", "Rule Name", "RuleName", "DisplayName"]),
                value(entry.name)
            ))
        if let program = entry.program {
            pairs.append(
                (german ? pick(["Programm", "Anwendung"]) : pick(["Program", "Application", "Path"]), value(program)))
        }
        if !entry.programOnly {
            let proto =
                entry.protocols.count == 2
                ? pick(["TCP/UDP", "Both", "TCP+UDP"]) : protocolText(entry.protocols, german: german)
            pairs.append(
                (
                    german ? pick(["Protokoll", "Protocol"]) : pick(["Protocol", "Proto", "Protocol Type"]),
                    value(proto)
                ))
            let ports = entry.items.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)-\($0.1)" }.joined(separator: ",")
            pairs.append(
                (
                    german
                        ? pick(["Anschluss", "Lokaler Port", "Port"])
                        : pick(["Port", "LocalPort", "Local Port", "Ports"]), value(ports)
                ))
        }
        if let side = entry.side {
            pairs.append(
                (
                    german ? "Schnittstelle" : pick(["Interface", "Edge Side"]),
                    value(german ? (side == "external" ? "Extern" : "Intern") : side.capitalized)
                ))
        }
        // Another host's port: never one this server opens.
        if !german, chance(25) { pairs.append((pick(["Remote Port", "RemotePort"]), value("\(int(1024...65000))"))) }
        pairs.shuffle(using: &random)
        let separator = pick(["=", ": ", " = "])
        let between = pick([" ", ", ", "; "])
        return pairs.map { "\($0.0)\(separator)\($0.1)" }.joined(separator: between)
    }

    mutating func makeCase() -> GeneratedCase {
        let role = pick(Self.roles)
        let entries = makeEntries(edge: role.id == "edge")
        var expected = Set<Expected>()
        for entry in entries where !entry.programOnly {
            for (low, high) in entry.items {
                for transport in entry.protocols {
                    expected.insert(
                        Expected(role: role.id, transport: transport, low: low, high: high, side: entry.side))
                }
            }
        }
        let shapes = [
            "html-table-th", "html-table-td", "html-prose", "xml-attributes", "xml-elements", "msi-keyvalue",
            "msi-prose", "msi-fragment", "text-tabs", "text-columns", "text-prose", "msi-german", "html-dl",
            "html-flat", "html-kv-table", "html-ul-kv", "msi-json", "xml-bindings",
        ]
        let shape = pick(shapes)
        var forceRole = false
        var lines: [String]
        var fileName = "generated.log"
        let german = shape == "msi-german"
        switch shape {
        case "html-table-th", "html-table-td":
            fileName = "\(role.step).html"
            lines = htmlHead(role.step) + htmlNoise()
            lines.append(
                "<div class=\"task\" name=\"\(pick(["Add firewall exceptions", "Configure Windows Firewall", "Create firewall rules"]))\">"
            )
            lines.append("<table>")
            var columns = ["name", "program", "protocol", "port"]
            if role.id == "edge" { columns.append("side") }
            columns.shuffle(using: &random)
            let headers: [String: [String]] = [
                "name": ["Name", "Rule name", "Exception"], "program": ["Program", "Application", "Executable"],
                "protocol": ["Protocol", "Protocols"], "port": ["Port", "Ports", "Local Port"],
                "side": ["Interface", "Edge side"],
            ].mapValues { $0 }
            let titles = columns.map { pick(headers[$0] ?? [$0]) }
            if shape == "html-table-th" {
                lines.append("<tr>" + titles.map { "<th>\($0)</th>" }.joined() + "</tr>")
            } else {
                lines.append("<tr>" + titles.map { "<td><b>\($0)</b></td>" }.joined() + "</tr>")
            }
            for entry in entries {
                let cells = columns.map { column -> String in
                    switch column {
                    case "name": return escape(entry.name)
                    case "program": return escape(entry.program ?? "")
                    case "protocol": return entry.programOnly ? "" : protocolText(entry.protocols, german: false)
                    case "port": return entry.programOnly ? "" : portsText(entry.items, german: false)
                    default: return entry.side.map { $0.capitalized } ?? ""
                    }
                }
                lines.append("<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>")
            }
            lines.append("</table>")
            lines.append("<div>Execution Result: &lt;Success&gt;</div></div>")
            lines += htmlNoise() + ["</div></body></html>"]
        case "html-prose":
            fileName = "\(role.step).html"
            lines = htmlHead(role.step) + htmlNoise()
            lines.append("<div class=\"task\" name=\"Add Windows Firewall exceptions\">")
            lines.append("<div>Windows Firewall service is running. Adding \(entries.count) firewall exceptions.</div>")
            for entry in entries { lines.append("<div>\(escape(prose(entry, german: false)))</div>") }
            lines += sectionNoise().map { "<div>\(escape($0))</div>" }
            if chance(50) {
                // Outbound traffic is no inbound exception.
                lines.append(
                    "<div>Allowing outbound TCP \(int(1024...65000)) to gateway gw01.example.com (192.0.2.60)</div>")
            }
            lines.append("<div>Execution Result: &lt;Success&gt;</div></div>")
            lines += htmlNoise() + ["</div></body></html>"]
        case "html-dl":
            // Definition lists: one <dl> per entry, terms in any order, on one line or several.
            fileName = "\(role.step).html"
            lines = htmlHead(role.step) + htmlNoise()
            lines.append("<section class=\"task\"><h3>Configure Windows Firewall rules</h3>")
            for entry in entries {
                var terms: [(String, String)] = [(pick(["Rule", "Name"]), escape(entry.name))]
                if let program = entry.program { terms.append(("Program", escape(program))) }
                if !entry.programOnly {
                    terms.append((pick(["Protocol", "Protocols"]), protocolText(entry.protocols, german: false)))
                    terms.append((pick(["Port", "Port range", "Local port"]), portsText(entry.items, german: false)))
                }
                if let side = entry.side { terms.append(("Edge side", side.capitalized)) }
                terms.append(("Direction", "Inbound"))
                terms.shuffle(using: &random)
                let items = terms.map { "<dt>\($0.0)</dt><dd>\($0.1)</dd>" }
                if chance(50) {
                    lines.append("<dl>" + items.joined() + "</dl>")
                } else {
                    lines += ["<dl>"] + items.map { " " + $0 } + ["</dl>"]
                }
            }
            lines.append("<p>Task status: Completed</p></section>")
            lines += htmlNoise() + ["</div></body></html>"]
        case "html-flat":
            // Flat structure: a heading element, then its details as siblings (Lync's wizard logs).
            fileName = "Enable-CsComputer.html"
            lines = [
                "<html><head><title>Enable-CsComputer</title></head><body>",
                "<div class=\"step\">\(role.step): checking prerequisites</div>",
                "<div class=\"detail\">SQL Server connection over TCP port 1433 verified (version 11.0.3000).</div>",
                "<div class=\"detail\">Task status: Completed.</div>",
                pick([
                    "<h4>Task: Configure firewall exceptions</h4>",
                    "<div class=\"step\">Creating firewall exceptions</div>",
                ]),
            ]
            for entry in entries { lines.append("<div class=\"detail\">\(escape(prose(entry, german: false)))</div>") }
            lines += [
                "<div class=\"detail\">Task status: Completed.</div>", "<div class=\"step\">Starting services</div>",
                "<div class=\"detail\">RTCSRV listening on 192.0.2.30:5061 (PID 2980)</div>", "</body></html>",
            ]
        case "html-kv-table", "html-ul-kv":
            // One two-column key/value table per entry, or a list of "Key: value" items per entry.
            fileName = "\(role.step).html"
            lines = htmlHead(role.step) + htmlNoise()
            lines.append(
                shape == "html-kv-table"
                    ? "<h3>Windows Firewall - inbound rules</h3>"
                    : "<ul><li>Task: Configure Windows Firewall exceptions<ul>")
            for entry in entries {
                var pairs: [(String, String)] = [("Rule", escape(entry.name))]
                if let program = entry.program { pairs.append(("Program", escape(program))) }
                if !entry.programOnly {
                    pairs.append(("Protocol", protocolText(entry.protocols, german: false)))
                    pairs.append((pick(["Local port", "Port", "Ports"]), portsText(entry.items, german: false)))
                }
                if let side = entry.side { pairs.append(("Edge interface", "\(side) - 192.0.2.\(int(2...250))")) }
                pairs.append(("Direction", "Inbound"))
                if shape == "html-kv-table" {
                    lines.append(
                        "<table class=\"kv\">" + pairs.map { "<tr><td>\($0.0)</td><td>\($0.1)</td></tr>" }.joined()
                            + "</table>")
                } else {
                    lines.append(
                        "<li>Exception<ul>" + pairs.map { "<li>\($0.0): \($0.1)</li>" }.joined() + "</ul></li>")
                }
            }
            lines.append(
                shape == "html-kv-table" ? "<div>\(entries.count) firewall rules created.</div>" : "</ul></li></ul>")
            lines += htmlNoise() + ["</div></body></html>"]
        case "msi-json":
            fileName = "Server_MSI.log"
            lines = [
                "=== Verbose logging started: 3/8/2010  09:14:27  Build type: SHIP UNICODE 4.05.6001.00  Calling process: C:\\Windows\\system32\\msiexec.exe ===",
                "Property(S): ProductName = Microsoft Office Communications Server 2007 R2, \(role.product)",
                "Action start 9:14:31: CA_ConfigureFirewall.",
            ]
            for entry in entries {
                var pairs = ["\"name\": \"\(entry.name)\"", "\"direction\": \"in\"", "\"action\": \"allow\""]
                if !entry.programOnly {
                    pairs.append(
                        "\"protocol\": \"\(entry.protocols.count == 2 ? "TCP/UDP" : entry.protocols[0].rawValue.uppercased())\""
                    )
                    if entry.items.count > 1 {
                        pairs.append(
                            "\"ports\": ["
                                + entry.items.map { $0.0 == $0.1 ? "\($0.0)" : "\"\($0.0)-\($0.1)\"" }.joined(
                                    separator: ", ") + "]")
                    } else {
                        let (low, high) = entry.items[0]
                        pairs.append(low == high ? "\"port\": \(low)" : "\"port\": \"\(low)-\(high)\"")
                    }
                } else if let program = entry.program {
                    pairs.append("\"program\": \"\(program.replacingOccurrences(of: "\\", with: "\\\\"))\"")
                }
                if let side = entry.side { pairs.append("\"interface\": \"\(side)\"") }
                lines.append("CA_ConfigureFirewall: rule { " + pairs.joined(separator: ", ") + " }")
            }
            // An outbound rule opens nothing inbound.
            lines.append(
                "CA_ConfigureFirewall: rule { \"name\": \"SIP to Edge\", \"direction\": \"out\", \"protocol\": \"TCP\", \"port\": \(int(1024...65000)) }"
            )
            lines += [
                "Action ended 9:14:32: CA_ConfigureFirewall. Return value 1.",
                "MSI (s) (5C:D8) [09:14:36:733]: Connecting to sql01.example.com,1433 ... OK (212 ms)",
            ]
        case "xml-bindings":
            fileName = "LCSCmd-\(role.id).xml"
            lines = [
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<LCSCmdLog>", "<Action name=\"\(role.step)\">",
                "<Task name=\"Apply settings\"><Setting name=\"ExternalPort\" value=\"\(int(1024...65000))\"/></Task>",
                "<Task name=\"Add Windows Firewall exceptions\">",
            ]
            for entry in entries where !entry.programOnly {
                lines.append("<Service name=\"\(escape(entry.name))\">")
                lines.append(
                    entry.side.map { "<Binding scope=\"\($0.capitalized)\" address=\"192.0.2.30\">" }
                        ?? "<Binding address=\"192.0.2.30\">")
                for (low, high) in entry.items {
                    for transport in entry.protocols {
                        let name = transport.rawValue.uppercased()
                        if low != high {
                            lines.append("<PortRange from=\"\(low)\" to=\"\(high)\" transport=\"\(name)\"/>")
                        } else if chance(50) {
                            lines.append("<Port number=\"\(low)\" transport=\"\(name)\"/>")
                        } else {
                            lines.append("<Port transport=\"\(name)\">\(low)</Port>")
                        }
                    }
                }
                lines += ["</Binding>", "</Service>"]
            }
            lines += ["<ExecutionResult>&lt;Success&gt;</ExecutionResult>", "</Task>", "</Action>", "</LCSCmdLog>"]
        case "xml-attributes", "xml-elements":
            fileName = "LCSCmd-\(role.id).xml"
            lines = [
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<LcsCmdLog>", "<Action name=\"\(role.step)\">",
                "<Task name=\"Check prerequisites\"><Entry>Connected to SQL instance over TCP port 1433 in 120 ms</Entry></Task>",
                "<Task name=\"\(pick(["Add firewall exceptions", "Firewall"]))\">",
            ]
            for entry in entries {
                var fields: [(String, String)] = [("Name", entry.name)]
                if let program = entry.program { fields.append((pick(["Program", "Application"]), program)) }
                if !entry.programOnly {
                    fields.append(("Protocol", protocolText(entry.protocols, german: false)))
                    fields.append((pick(["Port", "LocalPort", "Ports"]), portsText(entry.items, german: false)))
                }
                if let side = entry.side { fields.append(("Interface", side.capitalized)) }
                fields.shuffle(using: &random)
                if shape == "xml-attributes" {
                    lines.append(
                        "<FirewallException " + fields.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: " ")
                            + "/>")
                } else {
                    lines.append("<Rule>")
                    for (key, value) in fields { lines.append("  <\(key)>\(escape(value))</\(key)>") }
                    lines.append("</Rule>")
                }
            }
            lines += ["<ExecutionResult>&lt;Success&gt;</ExecutionResult>", "</Task>", "</Action>", "</LcsCmdLog>"]
        case "msi-keyvalue", "msi-prose", "msi-german", "msi-fragment":
            fileName = german ? "MSI3f7d1.LOG" : "MSI4a1c2.LOG"
            lines = []
            if shape != "msi-fragment" {
                lines.append(
                    german
                        ? "=== Ausführliche Protokollierung gestartet: 08.03.2010  09:14:27  Buildtyp: SHIP UNICODE 4.05.6001.00  Aufrufender Prozess: C:\\Windows\\system32\\msiexec.exe ==="
                        : "=== Verbose logging started: 3/8/2010  09:14:27  Build type: SHIP UNICODE 4.05.6001.00  Calling process: C:\\Windows\\system32\\msiexec.exe ==="
                )
                lines.append(
                    "\(german ? "Eigenschaft" : "Property")(S): ProductName = Microsoft Office Communications Server 2007 R2, \(role.product)"
                )
            } else {
                forceRole = true
            }
            lines.append("MSI (s) (5C:D8) [09:14:31:250]: 42 files copied in 17 s, version 3.5.6907.0 (KB974571)")
            let action = pick(["CA_AddFirewallExceptions", "CA_FirewallAusnahmen", "ConfigureFirewall"])
            lines.append(german ? "Aktion gestartet um 9:14:31: \(action)." : "Action start 9:14:31: \(action).")
            for entry in entries {
                let body =
                    shape == "msi-keyvalue" || (german && chance(50))
                    ? keyValues(entry, german: german) : prose(entry, german: german)
                lines.append(
                    chance(50)
                        ? "\(action): \(body)" : "MSI (s) (5C:64) [09:14:31:\(int(100...999))]: \(action): \(body)")
            }
            if !german { lines += sectionNoise().map { "\(action): \($0)" } }
            lines.append(
                german
                    ? "Aktion beendet um 9:14:32: \(action). Rückgabewert 1."
                    : "Action ended 9:14:32: \(action). Return value 1.")
            lines.append("MSI (s) (5C:D8) [09:14:36:733]: Service RTCSRV started, listening on port 5061 (PID 4412).")
        case "text-tabs", "text-columns":
            forceRole = true
            lines = [
                "Setup report for server01.example.com, 3/8/2010 09:14",
                "Copied 42 files; 3 warnings; port scan skipped", "",
            ]
            if chance(50) {
                lines.append(pick(["Windows Firewall exceptions added:", "Firewall rules created by setup"]))
            } else {
                lines += [
                    "[09:12:48] Configuring Windows Firewall", "[09:12:48]   The following exceptions were opened:", "",
                ]
            }
            let tabs = shape == "text-tabs"
            var rows: [[String]] = [["Name", "Protocol", "Port", "Program"]]
            if role.id == "edge" { rows[0].append("Interface") }
            for entry in entries {
                var row = [
                    entry.name, entry.programOnly ? "" : protocolText(entry.protocols, german: false),
                    entry.programOnly
                        ? "" : entry.items.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)-\($0.1)" }.joined(separator: ","),
                    entry.program ?? "-",
                ]
                if role.id == "edge" { row.append(entry.side?.capitalized ?? "") }
                rows.append(row)
            }
            if tabs {
                for row in rows { lines.append(row.joined(separator: "\t")) }
            } else {
                let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
                for (index, row) in rows.enumerated() {
                    lines.append(
                        row.enumerated().map {
                            $0.element.padding(toLength: widths[$0.offset] + 3, withPad: " ", startingAt: 0)
                        }
                        .joined().trimmingCharacters(in: .whitespaces))
                    if index == 0 {
                        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "   "))
                    }
                }
            }
            lines += ["", "SQL Server connection over TCP port 1433 verified", "Done in 42 s."]
        default:  // text-prose
            forceRole = true
            lines = ["Setup summary 3/8/2010 09:14:27", "Service listening on port 5061; 17 files copied", ""]
            lines.append("Windows Firewall exceptions:")
            for entry in entries { lines.append("  " + prose(entry, german: false)) }
            lines += ["", "Connected to the database over TCP port 1433.", "Completed at 09:15:02."]
        }
        let text = lines.joined(separator: shape == "html-table-td" ? "\r\n" : "\n") + "\n"
        var encoding = pick(["utf-8", "utf-16le", "windows-1252"])
        if german && encoding == "utf-8" { encoding = "windows-1252" }
        var bytes: [UInt8]
        switch encoding {
        case "utf-16le":
            bytes = [0xFF, 0xFE]
            for unit in text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
                .utf16
            {
                bytes.append(UInt8(unit & 0xFF))
                bytes.append(UInt8(unit >> 8))
            }
        case "windows-1252":
            if let data = text.data(using: .windowsCP1252) {
                bytes = Array(data)
            } else {
                encoding = "utf-8"
                bytes = Array(text.utf8)
            }
        default:
            bytes = Array(text.utf8)
        }
        return GeneratedCase(
            shape: shape, encoding: encoding, role: role.id, forceRole: forceRole, fileName: fileName, text: text,
            bytes: bytes, expected: expected)
    }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    func htmlHead(_ step: String) -> [String] {
        ["<html><head><title>\(step)</title></head><body>", "<div class=\"action\" name=\"\(step)\">"]
    }

    /// Lines inside a firewall section that open nothing: counts, removed, skipped and outbound rules,
    /// listeners, connections, times.
    mutating func sectionNoise() -> [String] {
        let port = int(1024...65000)
        return [
            pick([
                "Added \(int(2...9)) firewall exceptions (TCP: \(int(1...5)), UDP: \(int(1...4))) in \(int(10...99)) ms",
                "\(int(2...12)) firewall rules created, 0 skipped.",
            ]),
            pick([
                "Previous firewall exception for port \(port) removed",
                "TCP \(port) skipped: not required on this role",
                "Allowing outbound TCP \(port) to gateway gw01.example.com",
                "Service RTCSRV listening on port \(port) (PID \(int(100...9999)))",
                "Connected to SQL Server sql01.example.com over TCP port 1433 in \(int(10...900)) ms",
                "Firewall rule for remote port \(port) left unchanged",
            ]),
        ]
    }

    /// Tasks outside the firewall section, full of numbers that are no exceptions.
    mutating func htmlNoise() -> [String] {
        [
            "<div class=\"task\" name=\"\(pick(["Check prerequisites", "Start services", "Connect to database"]))\">",
            "<div>Connected to SQL Server sql01.example.com over TCP port 1433 (version 9.00.4035, 17 tables).</div>",
            "<div>Service RTCSRV started and is listening on port \(int(1024...65000)) (PID \(int(100...9999))).</div>",
            "<div>KB974571 is not installed; 3 updates checked at 10:4\(int(0...9)):12.</div>",
            "<div>Execution Result: &lt;Success&gt;</div></div>",
        ]
    }
}

/// Never widen the evidence: over every corpus log and a batch of generated ones, every port a
/// ruleset opens (without `--documented`) is written in the log at its evidence (the record that
/// starts at the evidence line), and the ruleset opens nothing but what the logs state.
@Suite struct EvidenceTests {
    /// The decoded lines of an input, by number.
    static func lines(of input: InputFile) throws -> [Int: String] {
        var lines: [Int: String] = [:]
        _ = try input.read { line in lines[line.number] = line.text }
        return lines
    }

    /// Checks one input; returns the problems found.
    static func check(_ input: InputFile, roles: [String] = []) throws -> [String] {
        let analyzer = Analyzer(
            knowledge: try RuleFixtures.knowledge, options: AnalysisOptions(roles: roles.map { RoleID($0) }))
        try analyzer.analyze(input)
        let result = analyzer.result()
        let lines = try lines(of: input)
        var problems: [String] = []
        // What the log or the firewall's record states; a port open only to some addresses is
        // accepted from those only, and one open only to a keyword's addresses not at all.
        let stated = result.exceptions.filter { $0.origin == .log || $0.origin == .firewall }
        for exception in stated {
            // A record may wrap over a few lines (an XML element's children, a wrapped entry; a
            // netsh rule block names its ports a dozen lines below its name).
            let span = exception.origin == .firewall ? 24 : 8
            let window = (exception.evidence.line..<(exception.evidence.line + span)).compactMap { lines[$0] }.joined(
                separator: "\n")
            for port in Set([exception.portFrom, exception.portTo]) where !Self.contains(window, port: port) {
                problems.append("\(input.path):\(exception.evidence.line): port \(port) is not written there")
            }
        }
        let opened = try ExceptionGeneratorTests.opened(by: result)
        let wanted = ExceptionGeneratorTests.intervals(
            stated.filter { $0.remote == nil && $0.local == nil }.map {
                ($0.role.rawValue, $0.role == .edge ? $0.interface?.rawValue : nil, $0.protocol, $0.portFrom, $0.portTo)
            })
        if opened != wanted { problems.append("\(input.path): the ruleset opens \(opened), the log states \(wanted)") }
        return problems
    }

    /// Whether `port` is written in `text` as a number of its own (not inside a longer one).
    static func contains(_ text: String, port: Int) -> Bool {
        let digits = Array(String(port).utf8)
        let bytes = Array(text.utf8)
        guard bytes.count >= digits.count else { return false }
        for start in 0...(bytes.count - digits.count) where bytes[start..<(start + digits.count)].elementsEqual(digits)
        {
            let before = start > 0 ? bytes[start - 1] : 0x20
            let after = start + digits.count < bytes.count ? bytes[start + digits.count] : 0x20
            if !(0x30...0x39).contains(before), !(0x30...0x39).contains(after) { return true }
        }
        return false
    }

    @Test func everyRulesetPortIsWrittenInTheCorpusAtItsEvidence() throws {
        let (inputs, errors) = InputFile.expand([RuleFixtures.logs.path])
        #expect(errors.isEmpty)
        #expect(inputs.count >= 25)
        var problems: [String] = []
        for input in inputs { problems += try Self.check(input) }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test func everyRulesetPortIsWrittenInGeneratedLogsAtItsEvidence() throws {
        var problems: [String] = []
        let first = ExceptionGeneratorTests.firstSeed &+ 1_000_000
        for offset in 0..<UInt64(500) {
            var generator = CaseGenerator(seed: first &+ offset)
            let generated = generator.makeCase()
            let found = try Self.check(
                InputFile(path: generated.fileName, contents: generated.bytes),
                roles: generated.forceRole ? [generated.role] : [])
            problems += found.map { "seed \(first &+ offset): \($0)" }
        }
        #expect(problems.isEmpty, "\(problems.prefix(5).joined(separator: "\n"))")
    }
}
