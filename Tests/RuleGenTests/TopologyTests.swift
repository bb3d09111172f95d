import Foundation
import Knowledge
import LogParser
import ScanModel
import TestSupport
import Testing

@testable import RuleGen

#if canImport(Glibc)
    import Glibc
#endif

enum TopologyFixtures {
    static let sample = RuleFixtures.root.appendingPathComponent("corpus/topology/contoso.yaml")
    static let probe = RuleFixtures.root.appendingPathComponent("Tests/RuleGenTests/netns-topology-probe.sh").path
    static let roles = Set(((try? RuleFixtures.knowledge)?.roles ?? []).map(\.id))

    static func parse(_ text: String, file: String = "t.yaml") throws(TopologyError) -> Topology {
        try Topology.parse(text, file: file, roles: roles)
    }

    static func sampleTopology() throws -> Topology {
        let text = try String(contentsOf: sample, encoding: .utf8)
        return try parse(text, file: "corpus/topology/contoso.yaml")
    }

    /// The corpus's Edge, Front End and Director, as the sample topology places them.
    static func corpusPlan(_ options: RuleOptions = RuleOptions()) throws -> ForwardPlan {
        var options = options
        let topology = try sampleTopology()
        options.topology = topology
        let result = try RuleFixtures.scan(["edge", "front-end", "director"])
        return ForwardPlan.build(
            from: result, knowledge: try RuleFixtures.knowledge, options: options, topology: topology)
    }

    static func render(_ plan: ForwardPlan, _ options: RuleOptions) -> (nft: String, v4: String, v6: String) {
        (
            NFTWriter.render(plan, options: options, generator: RuleFixtures.generator),
            IPTablesWriter.render(plan, family: .ipv4, options: options, generator: RuleFixtures.generator),
            IPTablesWriter.render(plan, family: .ipv6, options: options, generator: RuleFixtures.generator)
        )
    }

    static var dropping: RuleOptions {
        var options = RuleOptions()
        options.policy = .drop
        return options
    }

    static var composing: RuleOptions {
        var options = RuleOptions()
        options.baseChain = false
        options.table = "filter"
        return options
    }
}

@Suite struct TopologyFileTests {
    @Test func theSampleAndTheReadmeExampleRead() throws {
        let topology = try TopologyFixtures.sampleTopology()
        #expect(topology.zones.map(\.name) == ["internet", "perimeter", "internal"])
        #expect(topology.zones.map(\.kind) == [.internet, .perimeter, .internal])
        let edge = try #require(topology.servers.first { $0.role == "edge" })
        #expect(edge.isEdge && edge.name == nil)
        #expect(edge.av?.description == "198.51.100.12")
        #expect(edge.nat.map { "\($0.publicAddress)>\($0.address)" } == ["203.0.113.10>198.51.100.10"])
        // The README's commented example is a valid topology too.
        let readme = try String(
            contentsOf: RuleFixtures.root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- topology-example -->\n```yaml\n"))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        let example = try TopologyFixtures.parse(String(readme[start.upperBound..<end.lowerBound]))
        #expect(example.servers.map(\.label) == ["fe01.contoso.com", "edge01.contoso.com"])
    }

    /// Each bad file: the line the error names and a word of what to fix.
    static let badFiles: [(String, String, Int, String)] = [
        (
            "unknown zone",
            "zones:\n  internal: {interfaces: [eth2]}\nservers:\n  - role: front-end\n    zone: intranet\n    addresses: [192.0.2.1]\n",
            5, "unknown zone 'intranet'"
        ),
        (
            "bad address",
            "zones:\n  internal: {interfaces: [eth2]}\nservers:\n  - role: front-end\n    zone: internal\n    addresses: [192.0.2.300]\n",
            6, "not an IPv4 or IPv6 address"
        ),
        (
            "duplicate server",
            "zones:\n  internal: {interfaces: [eth2]}\nservers:\n  - {name: fe01.contoso.com, zone: internal, addresses: [192.0.2.1]}\n  - {name: FE01, zone: internal, addresses: [192.0.2.2]}\n",
            5, "duplicate server"
        ),
        (
            "interface in two zones",
            "zones:\n  internet: {interfaces: [eth0]}\n  internal:\n    interfaces: [eth2, eth0]\nservers:\n  - {role: edge, zone: internal, external: [198.51.100.1]}\n",
            4, "interface 'eth0' is in zone 'internet' and zone 'internal'"
        ),
        (
            "unknown key at the top",
            "zones:\n  internal: {interfaces: [eth2]}\nserver:\n  - {role: front-end}\n", 3, "unknown key 'server'"
        ),
        (
            "unknown key in a server",
            "zones:\n  internal: {interfaces: [eth2]}\nservers:\n  - role: front-end\n    zone: internal\n    adresses: [192.0.2.1]\n",
            6, "unknown key 'adresses'"
        ),
        (
            "unknown key in a zone",
            "zones:\n  internal: {interface: [eth2]}\nservers:\n  - {role: front-end, zone: internal, addresses: [192.0.2.1]}\n",
            2, "unknown key 'interface'"
        ),
        (
            "a network as a server address",
            "zones:\n  internal: {interfaces: [eth2]}\nservers:\n  - {role: front-end, zone: internal, addresses: [192.0.2.0/24]}\n",
            4, "is a network"
        ),
        (
            "an address in two servers",
            "zones:\n  internal: {interfaces: [eth2]}\nservers:\n  - {role: front-end, zone: internal, addresses: [192.0.2.1]}\n  - {role: director, zone: internal, addresses: [192.0.2.1]}\n",
            5, "each address belongs to one server"
        ),
        (
            "a bad interface name",
            "zones:\n  internal: {interfaces: [\"eth 2\"]}\nservers:\n  - {role: front-end, zone: internal, addresses: [192.0.2.1]}\n",
            2, "not a Linux interface name"
        ),
        (
            "a zone of no known kind",
            "zones:\n  dmz: {interfaces: [eth1]}\nservers:\n  - {role: edge, zone: dmz, external: [198.51.100.1]}\n",
            2, "needs kind:"
        ),
        (
            "nat to another server's address",
            "zones:\n  perimeter: {interfaces: [eth1]}\nservers:\n  - role: edge\n    zone: perimeter\n    external: [198.51.100.1]\n    nat: {203.0.113.1: 198.51.100.2}\n",
            7, "must be one of server every edge's external addresses"
        ),
        (
            "av not external",
            "zones:\n  perimeter: {interfaces: [eth1]}\nservers:\n  - role: edge\n    zone: perimeter\n    external: [198.51.100.1]\n    av: 198.51.100.9\n",
            7, "av: '198.51.100.9'"
        ),
        (
            "an unknown role",
            "zones:\n  internal: {interfaces: [eth2]}\nservers:\n  - {role: frontend, zone: internal, addresses: [192.0.2.1]}\n",
            4, "unknown role 'frontend'"
        ),
        (
            "not YAML", "zones:\n  internal: {interfaces: [eth2]\nservers: []\n", 3, "not valid YAML"
        ),
        (
            "a zone named like the Edge's internal side",
            "zones:\n  edge-internal: {interfaces: [eth1]}\nservers:\n  - {role: director, zone: edge-internal, addresses: [192.0.2.1]}\n",
            2, "reads as the role edge in rule names"
        ),
        (
            "two servers whose rule names collide",
            "zones:\n  perimeter: {interfaces: [eth1]}\nservers:\n  - {role: edge, zone: perimeter, external: [198.51.100.1], internal: [192.0.2.1]}\n  - {name: edge.external, role: director, zone: perimeter, addresses: [192.0.2.2]}\n",
            5, "read alike in rule names"
        ),
        (
            "a network with host bits",
            "zones:\n  internal: {interfaces: [eth2], networks: [192.0.2.5/25]}\nservers:\n  - {role: front-end, zone: internal, addresses: [192.0.2.1]}\n",
            2, "did you mean 192.0.2.0/25?"
        ),
        (
            "an unspecified address",
            "zones:\n  internal: {interfaces: [eth2]}\nservers:\n  - {role: front-end, zone: internal, addresses: [\"::\"]}\n",
            4, "is no server's address"
        ),
        (
            "one address translated twice",
            "zones:\n  perimeter: {interfaces: [eth1]}\nservers:\n  - role: edge\n    zone: perimeter\n    external: [198.51.100.1]\n    nat:\n      203.0.113.1: 198.51.100.1\n      203.0.113.2: 198.51.100.1\n",
            9, "translated from two public addresses"
        ),
        (
            "a key given twice",
            "zones:\n  internal: {interfaces: [eth2]}\nservers:\n  - role: front-end\n    zone: internal\n    zone: internal\n    addresses: [192.0.2.1]\n",
            6, "'zone' is given twice"
        ),
        (
            "an Edge with plain addresses",
            "zones:\n  perimeter: {interfaces: [eth1]}\nservers:\n  - {role: edge, zone: perimeter, addresses: [198.51.100.1]}\n",
            4, "an Edge needs external: and internal:"
        ),
    ]

    @Test(arguments: badFiles.indices)
    func aBadFileNamesItsLineAndWhatToFix(index: Int) {
        let (name, text, line, words) = Self.badFiles[index]
        do {
            _ = try TopologyFixtures.parse(text)
            Issue.record("\(name): read without an error")
        } catch {
            #expect(error.line == line, "\(name): \(error)")
            #expect(error.description.contains(words), "\(name): \(error)")
            #expect(error.description.hasPrefix("t.yaml:\(line): "), "\(name): \(error)")
        }
    }

    /// A topology drawn at random, and the YAML it is written as in one of several shapes.
    struct Drawn {
        var zones: [(name: String, kind: ZoneKind, interfaces: [String], networks: [String])]
        var servers:
            [(name: String?, role: String, zone: String, addresses: [String], external: [String], internal: [String])]
    }

    static func draw(_ random: inout SeededRandom) -> Drawn {
        var zones: [(String, ZoneKind, [String], [String])] = []
        var interface = 0
        for kind in ZoneKind.allCases.shuffled(using: &random) {
            let named = Bool.random(using: &random)
            let name = named ? kind.rawValue : "zone-\(kind.rawValue)\(Int.random(in: 0...9, using: &random))"
            var interfaces: [String] = []
            for _ in 0..<Int.random(in: 0...2, using: &random) {
                interfaces.append(["eth", "ens", "bond0.", "vlan"].randomElement(using: &random)! + "\(interface)")
                interface += 1
            }
            var networks: [String] = []
            if interfaces.isEmpty || Bool.random(using: &random) {
                networks.append("10.\(Int.random(in: 0...255, using: &random)).0.0/16")
                if Bool.random(using: &random) {
                    networks.append("2001:db8:\(Int.random(in: 1...99, using: &random))::/64")
                }
            }
            zones.append((name, kind, interfaces, networks))
        }
        var servers: [(String?, String, String, [String], [String], [String])] = []
        var host = 1
        func address(_ v6: Bool) -> String {
            host += 1
            return v6 ? "2001:db8:ff::\(String(host, radix: 16))" : "192.0.2.\(host)"
        }
        for role in ["front-end", "director", "edge", "back-end", "mediation"].shuffled(using: &random).prefix(
            Int.random(in: 1...5, using: &random))
        {
            // Names as rule names find them hard: a digit first, a chain's own name, a very long one.
            let odd = [
                "\(host)dir.contoso.com", servers.isEmpty ? "forward" : "srv\(host)",
                String(repeating: "x", count: 60) + "\(host).contoso.com",
            ]
            let name =
                Bool.random(using: &random)
                ? (Int.random(in: 0...3, using: &random) == 0
                    ? odd.randomElement(using: &random)! : "\(role.prefix(3))\(host).contoso.com") : nil
            let zone = zones.randomElement(using: &random)!.0
            if role == "edge" {
                servers.append((name, role, zone, [], [address(false), address(true)], [address(false)]))
            } else {
                servers.append(
                    (
                        name, role, zone,
                        (0..<Int.random(in: 1...3, using: &random)).map { _ in address(Bool.random(using: &random)) },
                        [], []
                    ))
            }
        }
        return Drawn(zones: zones, servers: servers)
    }

    /// Writes it: flow or block mappings, quoted or plain scalars, keys in any order, comments between.
    static func render(_ drawn: Drawn, _ random: inout SeededRandom) -> String {
        func scalar(_ text: String) -> String {
            switch Int.random(in: 0...2, using: &random) {
            case 0: "\"\(text)\""
            case 1 where !text.contains(":"): text
            default: "'\(text)'"
            }
        }
        func list(_ items: [String]) -> String { "[" + items.map(scalar).joined(separator: ", ") + "]" }
        var out = Bool.random(using: &random) ? "# generated topology\n" : ""
        var sections = ["zones", "servers"]
        if Bool.random(using: &random) { sections.reverse() }
        for section in sections {
            out += "\(section):\n"
            if section == "zones" {
                for zone in drawn.zones {
                    var fields: [(String, String)] = []
                    if !zone.interfaces.isEmpty { fields.append(("interfaces", list(zone.interfaces))) }
                    if !zone.networks.isEmpty { fields.append(("networks", list(zone.networks))) }
                    if zone.name != zone.kind.rawValue || Bool.random(using: &random) {
                        fields.append(("kind", scalar(zone.kind.rawValue)))
                    }
                    fields.shuffle(using: &random)
                    if Bool.random(using: &random) {
                        out += "  \(zone.name): {" + fields.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}\n"
                    } else {
                        out += "  \(zone.name):\n" + fields.map { "    \($0.0): \($0.1)   # \($0.0)\n" }.joined()
                    }
                }
            } else {
                for server in drawn.servers {
                    var fields: [(String, String)] = [("role", scalar(server.role)), ("zone", scalar(server.zone))]
                    if let name = server.name { fields.append(("name", scalar(name))) }
                    if !server.addresses.isEmpty { fields.append(("addresses", list(server.addresses))) }
                    if !server.external.isEmpty { fields.append(("external", list(server.external))) }
                    if !server.internal.isEmpty { fields.append(("internal", list(server.internal))) }
                    fields.shuffle(using: &random)
                    if Bool.random(using: &random) {
                        out += "  - {" + fields.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}\n"
                    } else {
                        out += "  - " + fields.map { "\($0.0): \($0.1)\n" }.joined(separator: "    ")
                    }
                }
            }
        }
        return out
    }

    @Test func generatedTopologiesInEveryShapeReadBackExactly() throws {
        let seed = ProcessInfo.processInfo.environment["OCSLOG_TOPOLOGY_SEED"].flatMap(UInt64.init) ?? 0x70_9010_6E
        var random = SeededRandom(state: seed)
        for round in 0..<300 {
            let drawn = Self.draw(&random)
            let text = Self.render(drawn, &random)
            let topology: Topology
            do {
                topology = try TopologyFixtures.parse(text)
            } catch {
                Issue.record("seed \(seed) round \(round): \(error)\n\(text)")
                continue
            }
            #expect(topology.zones.map(\.name) == drawn.zones.map(\.name), "\(text)")
            #expect(topology.zones.map(\.kind) == drawn.zones.map(\.kind), "\(text)")
            #expect(topology.zones.map(\.interfaces) == drawn.zones.map(\.interfaces), "\(text)")
            #expect(topology.zones.map { $0.networks.map(\.description) } == drawn.zones.map(\.networks), "\(text)")
            #expect(topology.servers.map(\.name) == drawn.servers.map(\.name), "\(text)")
            #expect(topology.servers.map { $0.role?.rawValue } == drawn.servers.map(\.role), "\(text)")
            #expect(topology.servers.map(\.zone) == drawn.servers.map(\.zone), "\(text)")
            #expect(
                topology.servers.map { $0.addresses.map(\.description) } == drawn.servers.map(\.addresses), "\(text)")
            #expect(topology.servers.map { $0.external.map(\.description) } == drawn.servers.map(\.external), "\(text)")
            #expect(topology.servers.map { $0.internal.map(\.description) } == drawn.servers.map(\.internal), "\(text)")
        }
    }
}

@Suite struct ForwardPlanTests {
    @Test func goldenFilesForTheCorpusEdgeFrontEndAndDirector() throws {
        for (suffix, options) in [("", TopologyFixtures.dropping), ("-compose", TopologyFixtures.composing)] {
            let rendered = TopologyFixtures.render(try TopologyFixtures.corpusPlan(options), options)
            var files = [("topology\(suffix).nft", rendered.nft)]
            if suffix.isEmpty { files += [("topology.v4", rendered.v4), ("topology.v6", rendered.v6)] }
            for (name, text) in files {
                let url = RuleFixtures.golden.appendingPathComponent(name)
                if ProcessInfo.processInfo.environment["OCSLOG_UPDATE_GOLDEN"] == "1" {
                    try text.write(to: url, atomically: true, encoding: .utf8)
                }
                let expected = try String(contentsOf: url, encoding: .utf8)
                #expect(text == expected, "\(name) differs from its golden file (OCSLOG_UPDATE_GOLDEN=1 rewrites it)")
            }
            let nft = try RuleFixtures.checkNFT(rendered.nft)
            #expect(nft.status == 0, "nft -c: \(nft.output)")
            if suffix.isEmpty {
                #expect(try RuleFixtures.checkIPTables(rendered.v4, tool: "iptables-restore").status == 0)
                #expect(try RuleFixtures.checkIPTables(rendered.v6, tool: "ip6tables-restore").status == 0)
            }
        }
    }

    @Test func eachRoleIsReachedOnlyFromTheZonesTheKnowledgeNames() throws {
        let plan = try TopologyFixtures.corpusPlan()
        func peers(_ name: String, inbound: Bool = true) -> [String] {
            let destination = plan.destinations.first { $0.name == name }
            return (inbound ? destination?.inbound : destination?.outbound)?.map(\.peer.label) ?? []
        }
        #expect(plan.destinations.map(\.name) == ["director", "edge_external", "edge_internal", "front_end"])
        #expect(peers("edge_external") == ["internet"])
        #expect(peers("edge_internal") == ["internal"])
        #expect(peers("front_end") == ["edge_internal", "internal"])
        // What goes both ways: the Edge connects out on 5061, 3478 and the media range.
        #expect(peers("edge_external", inbound: false) == ["internet"])
        let out = plan.destinations.first { $0.name == "edge_external" }?.outbound.first?.elements.map {
            "\($0.transport.rawValue) \($0.range)"
        }
        #expect(out == ["tcp 5061", "tcp 50000-59999", "udp 3478"])
        // The Front End takes only 5061 and the media range from the Edge's internal address.
        let fromEdge = plan.destinations.first { $0.name == "front_end" }?.inbound.first {
            $0.peer.label == "edge_internal"
        }
        #expect(fromEdge?.elements.map { "\($0.transport.rawValue) \($0.range)" } == ["tcp 5061", "udp 49152-65535"])
        #expect(fromEdge?.peer.prefixes.map(\.description) == ["192.0.2.10", "2001:db8:4::10"])
    }

    /// A scan result of exceptions made here, for plans without logs.
    static func result(_ exceptions: [(String?, String, String?, TransportProtocol, Int, Int)]) -> ScanResult {
        let made = exceptions.enumerated().compactMap { index, spec -> FirewallException? in
            guard let range = PortRange(from: spec.4, to: spec.5) else { return nil }
            return FirewallException(
                role: RoleID(spec.1), protocol: spec.3, range: range,
                interface: spec.2.flatMap { EdgeInterface(rawValue: $0) }, program: nil,
                service: nil, origin: .log, evidence: Evidence(path: "made.log", log: nil, line: index + 1, text: nil),
                note: nil, server: spec.0)
        }
        return ScanResult(
            inputs: [], exceptions: made, findings: [], notUnderstood: [],
            summary: .init(errors: 0, warnings: 0, exceptions: made.count, roles: []))
    }

    static let pool = """
        zones:
          internet: {interfaces: [eth0]}
          perimeter: {interfaces: [eth1]}
          internal: {interfaces: [eth2], networks: [192.0.2.0/24]}
        servers:
          - {name: sql01.contoso.com, role: back-end, zone: internal, addresses: [192.0.2.50]}
          - {name: fe01.contoso.com, role: front-end, zone: internal, addresses: [192.0.2.11]}
          - {name: fe02.contoso.com, role: front-end, zone: internal, addresses: [192.0.2.12]}
          - {role: edge, zone: perimeter, external: [198.51.100.10], internal: [198.51.100.130]}
        """

    @Test func theBackEndTakesSQLOnlyFromThePoolAndUnknownPortsOnlyFromItsZone() throws {
        let topology = try TopologyFixtures.parse(Self.pool)
        var options = RuleOptions()
        options.topology = topology
        let result = Self.result([
            ("SQL01", "back-end", nil, .tcp, 1433, 1433), ("sql01.contoso.com", "back-end", nil, .tcp, 7777, 7777),
            ("fe09.contoso.com", "front-end", nil, .tcp, 5061, 5061), ("FE01", "front-end", nil, .tcp, 5061, 5061),
            (nil, "edge", nil, .udp, 3478, 3478), (nil, "edge", nil, .tcp, 6000, 6000),
        ])
        let plan = ForwardPlan.build(
            from: result, knowledge: try RuleFixtures.knowledge, options: options, topology: topology)
        let sql = try #require(plan.destinations.first { $0.name == "sql01_contoso_com" })
        let fromPool = try #require(sql.inbound.first { $0.peer.label == "front_end" })
        #expect(fromPool.peer.prefixes.map(\.description) == ["192.0.2.11", "192.0.2.12"])
        #expect(fromPool.elements.map(\.range.description) == ["1433"])
        let own = try #require(sql.inbound.first { $0.peer.label == "internal" })
        #expect(own.elements.map(\.range.description) == ["7777"])
        // A computer no server of the topology is: left out, and said so.
        #expect(plan.warnings.contains { $0.contains("no server of the topology matches") && $0.contains("fe09") })
        #expect(!plan.destinations.contains { $0.server.contains("fe09") })
        // An Edge port without a side goes where the knowledge documents it (3478/udp: both sides);
        // one the knowledge does not describe goes to all its addresses, from its own zone only.
        let external = try #require(plan.destinations.first { $0.name == "edge_external" })
        #expect(external.inbound.map(\.peer.label) == ["internet"])
        let edge = try #require(plan.destinations.first { $0.name == "edge" })
        #expect(edge.inbound.map(\.peer.label) == ["perimeter"])
        #expect(edge.inbound.first?.elements.map(\.range.description) == ["6000"])
        #expect(edge.addresses.map(\.description) == ["198.51.100.10", "198.51.100.130"])
        #expect(plan.warnings.contains { $0.contains("does not describe") && $0.contains("6000/tcp") })
    }

    @Test func anEdgeLogGoesOnlyToAnEdgeAndAnAmbiguousNameNowhere() throws {
        let topology = try TopologyFixtures.parse(
            """
            zones:
              internet: {interfaces: [eth0]}
              perimeter: {interfaces: [eth1]}
              internal: {interfaces: [eth2]}
            servers:
              - {name: edge01.contoso.com, zone: perimeter, addresses: [198.51.100.10]}
              - {name: fe01.contoso.com, role: front-end, zone: internal, addresses: [192.0.2.11]}
              - {name: fe01.fabrikam.com, role: front-end, zone: internal, addresses: [192.0.2.12]}
            """)
        var options = RuleOptions()
        options.topology = topology
        let plan = ForwardPlan.build(
            from: Self.result([
                ("EDGE01", "edge", "internal", .tcp, 5061, 5061), ("FE01", "front-end", nil, .tcp, 5061, 5061),
                ("fe01.contoso.com", "web-components", nil, .tcp, 443, 443),
            ]), knowledge: try RuleFixtures.knowledge, options: options, topology: topology)
        // The Edge's port has a side; a server without sides does not take it.
        #expect(!plan.destinations.contains { $0.server.hasPrefix("edge01") })
        #expect(plan.warnings.contains { $0.contains("no server of the topology matches") && $0.contains("EDGE01") })
        // FE01 could be either Front End: neither gets it.
        #expect(plan.warnings.contains { $0.contains("fits more than one server") })
        // A named server takes its other roles' ports (Web Components on the Front End).
        let fe = try #require(plan.destinations.first { $0.name == "fe01_contoso_com" })
        #expect(fe.roles == ["web-components"])
        #expect(fe.inbound.flatMap(\.elements).map(\.range.description) == ["443"])
    }

    @Test func translatingTheAVEdgeAddressIsWarnedWithItsReference() throws {
        func warnings(_ edges: String) throws -> [String] {
            let text = "zones:\n  internet: {interfaces: [eth0]}\n  perimeter: {interfaces: [eth1]}\nservers:\n" + edges
            let topology = try TopologyFixtures.parse(text)
            var options = RuleOptions()
            options.topology = topology
            return ForwardPlan.build(
                from: Self.result([]), knowledge: try RuleFixtures.knowledge, options: options, topology: topology
            ).warnings
        }
        let one =
            "  - {name: edge01, role: edge, zone: perimeter, external: [198.51.100.10, 198.51.100.12], internal: [198.51.100.130], "
        let avNamed = try warnings(one + "av: 198.51.100.12, nat: {203.0.113.10: 198.51.100.10}}\n")
        #expect(avNamed.isEmpty, "\(avNamed)")
        let avTranslated = try warnings(one + "av: 198.51.100.12, nat: {203.0.113.12: 198.51.100.12}}\n")
        #expect(avTranslated.count == 1)
        #expect(avTranslated.first?.contains("OCS 2007 Planning Guide") == true)
        let unknown = try warnings(one + "nat: {203.0.113.10: 198.51.100.10}}\n")
        #expect(unknown.first?.contains("name the A/V Edge's address with av:") == true)
        let two = try warnings(
            one + "av: 198.51.100.12, nat: {203.0.113.10: 198.51.100.10}}\n"
                + "  - {name: edge02, role: edge, zone: perimeter, external: [198.51.100.20, 198.51.100.21], "
                + "internal: [198.51.100.140], av: 198.51.100.20, nat: {203.0.113.20: 198.51.100.21}}\n")
        #expect(two.count == 1, "\(two)")
        #expect(two.first?.contains("only at a site with one Edge Server") == true)
        #expect(two.first?.contains("OCS 2007 R2: Firewall Requirements for External User Access") == true)
    }

    /// Random exceptions of random servers, against random topologies: nothing reaches a server's
    /// addresses that its own logs did not open, the output does not depend on the input order,
    /// and every ruleset passes the kernel's checks.
    @Test func generatedPlansNeverWidenAndDoNotDependOnOrder() throws {
        let seed = ProcessInfo.processInfo.environment["OCSLOG_TOPOLOGY_SEED"].flatMap(UInt64.init) ?? 0xF0_4A_4D
        var random = SeededRandom(state: seed)
        for round in 0..<40 {
            let drawn = TopologyFileTests.draw(&random)
            let topology = try TopologyFixtures.parse(TopologyFileTests.render(drawn, &random))
            var specs: [(String?, String, String?, TransportProtocol, Int, Int)] = []
            for _ in 0..<Int.random(in: 1...25, using: &random) {
                let server = drawn.servers.randomElement(using: &random)!
                let computer =
                    Bool.random(using: &random) ? server.name : "other\(Int.random(in: 1...3, using: &random))"
                let role = Int.random(in: 0...4, using: &random) == 0 ? "mediation" : server.role
                let low = [443, 5061, 3478, 1433, 8057, 50000, Int.random(in: 1...65535, using: &random)].randomElement(
                    using: &random)!
                let high = min(65535, low + (Bool.random(using: &random) ? 0 : Int.random(in: 1...100, using: &random)))
                let side = role == "edge" ? [nil, "external", "internal"].randomElement(using: &random)! : nil
                specs.append((computer, role, side, Bool.random(using: &random) ? .tcp : .udp, low, high))
            }
            var options = RuleOptions()
            options.topology = topology
            options.policy = Bool.random(using: &random) ? .drop : .accept
            let plan = ForwardPlan.build(
                from: Self.result(specs), knowledge: try RuleFixtures.knowledge, options: options, topology: topology)
            for destination in plan.destinations {
                let server = try #require(topology.servers.first { $0.label == destination.server })
                let own = specs.filter { topology.server(computer: $0.0, role: RoleID($0.1)) == server }
                for group in destination.inbound + destination.outbound {
                    for element in group.elements {
                        // Each accepted range is covered by ranges this server's logs opened.
                        var covered = Int(element.range.lowerBound.rawValue)
                        let ranges = own.filter { $0.3 == element.transport }.map { $0.4...$0.5 }.sorted {
                            $0.lowerBound < $1.lowerBound
                        }
                        for range in ranges where range.lowerBound <= covered && range.upperBound >= covered {
                            covered = range.upperBound + 1
                        }
                        #expect(
                            covered > Int(element.range.upperBound.rawValue),
                            "seed \(seed) round \(round): \(destination.name) \(element.range) not opened by its logs")
                    }
                }
            }
            let shuffled = ForwardPlan.build(
                from: Self.result(specs.shuffled(using: &random).map { $0 }), knowledge: try RuleFixtures.knowledge,
                options: options, topology: topology)
            let first = TopologyFixtures.render(plan, options)
            let second = TopologyFixtures.render(shuffled, options)
            // Evidence lines follow the input order; the rules themselves do not.
            func rules(_ text: String) -> String {
                text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
                    $0.replacingOccurrences(of: #"comment "[^"]*""#, with: "", options: .regularExpression)
                }.joined(separator: "\n")
            }
            #expect(rules(first.nft) == rules(second.nft), "seed \(seed) round \(round)")
            if round % 8 == 0 {
                let nft = try RuleFixtures.checkNFT(first.nft)
                #expect(nft.status == 0, "seed \(seed) round \(round): nft -c: \(nft.output)\n\(first.nft)")
                let v4 = try RuleFixtures.checkIPTables(first.v4, tool: "iptables-restore")
                #expect(v4.status == 0, "seed \(seed) round \(round): \(v4.output)\n\(first.v4)")
                let v6 = try RuleFixtures.checkIPTables(first.v6, tool: "ip6tables-restore")
                #expect(v6.status == 0, "seed \(seed) round \(round): \(v6.output)\n\(first.v6)")
            }
        }
    }
}

/// The corpus's rules loaded on a firewall namespace between an internet client, an Edge and a
/// Front End: what the logs opened passes, from the zones that use it; nothing else does.
@Suite(.serialized, .enabled(if: RuleFixtures.isRoot, "network namespaces need root"))
struct TopologyNamespaceTests {
    static let expected = """
        i tcp 203.0.113.10 443 pong
        i tcp 198.51.100.12 443 pong
        i udp 198.51.100.10 3478 pong
        i tcp6 2001:db8:1::10 443 pong
        i tcp 198.51.100.10 5062 closed
        i tcp 192.0.2.10 5061 closed
        i tcp 192.0.2.140 5061 closed
        i tcp6 2001:db8:2::140 5061 closed
        b tcp 192.0.2.10 5061 pong
        b tcp6 2001:db8:4::10 8057 pong
        b udp 192.0.2.10 3478 pong
        b tcp 192.0.2.10 443 closed
        e tcp 192.0.2.140 5061 pong
        e udp 192.0.2.140 50000 pong
        e tcp 192.0.2.140 5062 closed
        e tcp6 2001:db8:2::140 5061 pong
        e tcp 203.0.113.50 5061 203.0.113.10
        e tcp 203.0.113.50 5062 closed
        i tcp 203.0.113.1 22 pong
        i tcp 203.0.113.1 2222 closed

        """

    func probe(_ mode: String, _ files: [String]) throws -> String {
        let paths = try files.enumerated().map {
            try RuleFixtures.temporaryFile($0.element, name: "\(mode)-\($0.offset)")
        }
        defer { for path in paths { unlink(path) } }
        let outcome = try RuleFixtures.run(["timeout", "150", "bash", TopologyFixtures.probe, mode] + paths)
        return outcome.output
    }

    @Test func aCompleteNFTFirewallPassesExactlyTheLoggedPaths() throws {
        let rendered = TopologyFixtures.render(
            try TopologyFixtures.corpusPlan(TopologyFixtures.dropping), TopologyFixtures.dropping)
        let seen = try probe("nft", [rendered.nft])
        #expect(seen == Self.expected, "\(seen)")
    }

    @Test func withoutABaseChainItComposesWithTheOperatorsDropPolicy() throws {
        let options = TopologyFixtures.composing
        let rendered = TopologyFixtures.render(try TopologyFixtures.corpusPlan(options), options)
        #expect(rendered.nft.contains("nft add rule inet filter forward jump ocslog_forward"))
        let seen = try probe("nft-compose", [rendered.nft])
        #expect(seen == Self.expected, "\(seen)")
    }

    @Test func iptablesJumpChainsComposeWithTheOperatorsDropPolicy() throws {
        let rendered = TopologyFixtures.render(try TopologyFixtures.corpusPlan(), RuleOptions())
        let seen = try probe("iptables", [rendered.v4, rendered.v6])
        #expect(seen == Self.expected, "\(seen)")
    }

    @Test func loadingTheComposableFileTwiceLeavesOneCopy() throws {
        let options = TopologyFixtures.composing
        let rendered = TopologyFixtures.render(try TopologyFixtures.corpusPlan(options), options)
        let path = try RuleFixtures.temporaryFile(rendered.nft, name: "compose.nft")
        defer { unlink(path) }
        let namespace = "ocstwice\(getpid())"
        try RuleFixtures.run(["ip", "netns", "add", namespace])
        defer { _ = try? RuleFixtures.run(["ip", "netns", "del", namespace]) }
        let own = try RuleFixtures.temporaryFile(
            "table inet filter {\n chain forward { type filter hook forward priority 0; policy drop; }\n}\n",
            name: "own.nft")
        defer { unlink(own) }
        #expect(try RuleFixtures.run(["ip", "netns", "exec", namespace, "nft", "-f", own]).status == 0)
        var listings: [String] = []
        for _ in 0..<2 {
            let load = try RuleFixtures.run(["timeout", "10", "ip", "netns", "exec", namespace, "nft", "-f", path])
            #expect(load.status == 0, "\(load.output)")
            listings.append(try RuleFixtures.run(["ip", "netns", "exec", namespace, "nft", "list", "ruleset"]).output)
        }
        #expect(listings[0] == listings[1])
        #expect(listings[1].components(separatedBy: "chain ocslog_front_end {").count == 2)
        #expect(listings[1].contains("policy drop"))
    }
}
