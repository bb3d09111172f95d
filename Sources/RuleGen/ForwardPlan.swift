import Foundation
import Knowledge
import ScanModel

/// What a Linux firewall in front of the servers accepts (forward hook), from a scan result and
/// a topology: per server (and Edge side), the ports its logs opened, from the zones or servers
/// that connect to them as the knowledge says; the public addresses translated to servers.
public struct ForwardPlan: Sendable {
    /// Where traffic comes from (inbound) or goes to (outbound): a zone, or some servers' addresses.
    public struct Peer: Sendable, Hashable {
        /// A zone's name, or `ROLE` / `ROLE_SIDE` for servers of a role: letters, digits, `_`, `-`.
        public var label: String
        /// The zone's interfaces (empty for servers, or a zone told apart by networks only).
        public var interfaces: [String]
        /// The zone's networks, or the servers' addresses (empty: any address on the interfaces).
        public var prefixes: [SourcePrefix]

        /// The prefixes to match in one family: nil when it names only the other family's.
        public func prefixes(_ family: SourcePrefix.Family) -> [SourcePrefix]? {
            let own = prefixes.filter { $0.family == family }
            return !prefixes.isEmpty && own.isEmpty ? nil : own
        }
    }

    /// The ports one peer may use.
    public struct Group: Sendable {
        public var peer: Peer
        public var elements: [ChainPlan.Element]
        public var scoped: [ChainPlan.Element]

        public func elements(of transport: TransportProtocol) -> [ChainPlan.Element] {
            elements.filter { $0.transport == transport }
        }
    }

    /// Traffic to (inbound) and from (outbound) one server's addresses, or one Edge side's.
    public struct Destination: Sendable {
        /// `fe01.contoso.com`, `every edge`.
        public var server: String
        /// The roles whose ports it carries.
        public var roles: [RoleID]
        public var side: EdgeInterface?
        public var addresses: [SourcePrefix]
        /// `fe01_contoso_com`, `edge01_contoso_com_external`: letters, digits and `_`.
        public var name: String
        /// Who may connect to it, on which ports.
        public var inbound: [Group]
        /// Whom it may connect to (ports the knowledge says go both ways).
        public var outbound: [Group]

        public func addresses(_ family: SourcePrefix.Family) -> [SourcePrefix] {
            addresses.filter { $0.family == family }
        }
    }

    /// A public address translated to a server's address (DNAT in, SNAT out).
    public struct Translation: Sendable {
        public var server: String
        public var publicAddress: SourcePrefix
        public var address: SourcePrefix
        /// The internet zones' interfaces, where outbound traffic gets the public address.
        public var outInterfaces: [String]
    }

    public var destinations: [Destination]
    public var translations: [Translation]
    /// The inputs the scan read (sorted, sanitized) and the topology file.
    public var inputs: [String]
    public var topology: String
    public var warnings: [String]

    /// Builds the plan; the same result and topology give the same plan whatever the input order.
    public static func build(
        from result: ScanResult, knowledge: KnowledgeBase, options: RuleOptions, topology: Topology
    ) -> ForwardPlan {
        let (items, collected) = RulePlan.collect(from: result, knowledge: knowledge, options: options)
        var warnings = collected
        struct Key: Hashable {
            var destination: String
            var peer: String
            var outbound: Bool
        }
        var grouped: [Key: [ChainPlan.Element]] = [:]
        var peers: [String: Peer] = [:]
        var destinations: [String: Destination] = [:]
        var unmatched: [String] = []
        var undescribed: [String] = []
        var noPeer: [String] = []
        var noAddress: [String] = []
        var placed: [String] = []
        var ambiguous: [String] = []

        for item in items {
            let port = "\(item.element.range)/\(item.element.transport.rawValue)"
            let candidates = topology.servers(computer: item.server, role: item.role)
            guard candidates.count == 1, let server = candidates.first else {
                if candidates.isEmpty {
                    unmatched.append("\(port) of \(item.server ?? "a log") (\(item.role))")
                } else {
                    ambiguous.append(
                        "\(port) of \(item.server ?? "a log"): \(candidates.map(\.label).joined(separator: " or "))")
                }
                continue
            }
            // The sides of an Edge: the log's, else where the knowledge documents the port.
            var sides: [EdgeInterface?] = [nil]
            var documented: [DocumentedPort] = []
            if server.isEdge && item.role == .edge {
                if let interface = item.interface {
                    sides = [interface]
                } else {
                    let known = Self.documented(item, side: nil, knowledge: knowledge)
                    let knownSides = Set(known.compactMap(\.interface)).sorted()
                    if !knownSides.isEmpty {
                        sides = knownSides.map(Optional.some)
                        placed.append("\(port) on the \(knownSides.map(\.rawValue).joined(separator: " and ")) side")
                    }
                }
            }
            for side in sides {
                let addresses = server.addresses(side: side)
                guard !addresses.isEmpty else {
                    noAddress.append("\(port) of \(server.label) (no \(side?.rawValue ?? "") addresses)")
                    continue
                }
                documented = Self.documented(item, side: side, knowledge: knowledge)
                let from = Self.uniqued(documented.flatMap(\.from))
                var resolved: [Peer] = []
                // Whom the server connects out to on it (ports that go both ways).
                var targets: [Peer] = []
                for port in documented where port.direction == .both {
                    for peer in port.to.isEmpty ? port.from : port.to {
                        targets += Self.resolve(peer, topology: topology)
                    }
                }
                if from.isEmpty {
                    undescribed.append("\(port) of \(server.label) (\(item.element.comment))")
                    if let zone = topology.zone(server.zone) { resolved = [Self.peer(zone)] }
                } else {
                    for peer in from { resolved += Self.resolve(peer, topology: topology) }
                    if resolved.isEmpty {
                        noPeer.append(
                            "\(port) of \(server.label): no \(from.map(\.description).joined(separator: " or "))")
                        continue
                    }
                }
                let name = server.key + (side.map { "_" + $0.rawValue } ?? "")
                var destination =
                    destinations[name]
                    ?? Destination(
                        server: server.label, roles: [], side: side, addresses: addresses, name: name, inbound: [],
                        outbound: [])
                if !destination.roles.contains(item.role) { destination.roles.append(item.role) }
                destinations[name] = destination
                for peer in resolved {
                    peers[peer.label] = peer
                    grouped[Key(destination: name, peer: peer.label, outbound: false), default: []].append(item.element)
                }
                for peer in targets {
                    peers[peer.label] = peer
                    grouped[Key(destination: name, peer: peer.label, outbound: true), default: []].append(item.element)
                }
            }
        }
        for (key, elements) in grouped {
            guard let peer = peers[key.peer] else { continue }
            let open = RulePlan.merge(elements.filter { !$0.isScoped })
            let group = Group(
                peer: peer, elements: open, scoped: RulePlan.mergeScoped(elements.filter(\.isScoped), open: open))
            if key.outbound {
                destinations[key.destination]?.outbound.append(group)
            } else {
                destinations[key.destination]?.inbound.append(group)
            }
        }
        var sorted = destinations.values.sorted { $0.name < $1.name }
        for index in sorted.indices {
            sorted[index].roles.sort()
            sorted[index].inbound.sort { $0.peer.label < $1.peer.label }
            sorted[index].outbound.sort { $0.peer.label < $1.peer.label }
        }
        func note(_ list: [String], _ text: (Int) -> String) {
            guard !list.isEmpty else { return }
            let examples = Array(Set(list)).sorted().prefix(3).joined(separator: "; ")
            warnings.append(text(list.count) + ": " + examples + (Set(list).count > 3 ? "; …" : ""))
        }
        let plural = { (count: Int) in count == 1 ? "" : "s" }
        note(unmatched) {
            "\($0) port\(plural($0)) left out: no server of the topology matches their log's computer or role"
        }
        note(noAddress) { "\($0) port\(plural($0)) left out: the topology gives that Edge side no address" }
        note(noPeer) { "\($0) port\(plural($0)) left out: the topology has nobody who connects to them" }
        note(undescribed) {
            "\($0) port\(plural($0)) the knowledge does not describe: accepted from the server's own zone only"
        }
        note(ambiguous) { "\($0) port\(plural($0)) left out: their log's computer name fits more than one server" }
        note(placed) { "\($0) Edge port\(plural($0)) named no interface: placed on the side the knowledge documents" }

        var translations: [Translation] = []
        let internetInterfaces = topology.zones.filter { $0.kind == .internet }.flatMap(\.interfaces).sorted()
        for server in topology.servers {
            for nat in server.nat {
                translations.append(
                    Translation(
                        server: server.label, publicAddress: nat.publicAddress, address: nat.address,
                        outInterfaces: internetInterfaces))
            }
        }
        translations.sort { $0.publicAddress.description < $1.publicAddress.description }
        warnings += translationWarnings(topology: topology, knowledge: knowledge)
        if !translations.isEmpty && internetInterfaces.isEmpty {
            warnings.append(
                "no internet zone names an interface: translated servers' outbound traffic keeps its own address (no SNAT)"
            )
        }
        for zone in topology.zones where zone.interfaces.isEmpty {
            warnings.append(
                "zone \(zone.name) names no interface: its networks are matched by source address alone, which a "
                    + "packet from another interface can forge; give it interfaces:")
        }
        let inputs = Set(result.inputs.map { Comment.sanitize($0.path) }).sorted()
        return ForwardPlan(
            destinations: sorted, translations: translations, inputs: inputs, topology: Comment.sanitize(topology.path),
            warnings: warnings)
    }

    /// The documented ports of the item's role (and side) and protocol whose range holds its range.
    static func documented(_ item: RulePlan.Item, side: EdgeInterface?, knowledge: KnowledgeBase) -> [DocumentedPort] {
        knowledge.ports.filter { port in
            port.role == item.role && port.protocols.contains(item.element.transport)
                && (side == nil || port.interface == side)
                && port.range.lowerBound <= item.element.range.lowerBound
                && item.element.range.upperBound <= port.range.upperBound
        }
    }

    static func uniqued(_ peers: [PortPeer]) -> [PortPeer] {
        var seen = Set<PortPeer>()
        return peers.filter { seen.insert($0).inserted }
    }

    static func peer(_ zone: Topology.Zone) -> Peer {
        Peer(label: zone.name, interfaces: zone.interfaces, prefixes: zone.networks.sorted())
    }

    /// The topology's zones of a kind, or its servers of a role (their addresses on one side,
    /// arriving on their zone's interfaces: one peer per zone they sit in).
    static func resolve(_ peer: PortPeer, topology: Topology) -> [Peer] {
        switch peer {
        case .zone(let kind):
            return topology.zones.filter { $0.kind == kind }.map(Self.peer)
        case .servers(let role, let interface):
            let servers = topology.servers.filter { $0.role == role && !$0.addresses(side: interface).isEmpty }
            let zones = Array(Set(servers.map(\.zone))).sorted()
            let base = (role.rawValue + (interface.map { "_" + $0.rawValue } ?? "")).replacingOccurrences(
                of: "-", with: "_")
            return zones.map { zone in
                let addresses = servers.filter { $0.zone == zone }.flatMap { $0.addresses(side: interface) }
                return Peer(
                    label: zones.count == 1 ? base : base + "_" + zone.replacingOccurrences(of: "-", with: "_"),
                    interfaces: topology.zone(zone)?.interfaces ?? [], prefixes: Array(Set(addresses)).sorted())
            }
        }
    }

    /// What the guidance says about the topology's translations (ports.yaml `translation`).
    static func translationWarnings(topology: Topology, knowledge: KnowledgeBase) -> [String] {
        var warnings: [String] = []
        for rule in knowledge.translation {
            let servers = topology.servers.filter { $0.role == rule.role && !$0.nat.isEmpty }
            var hit: [String] = []
            for server in servers {
                let side = server.addresses(side: rule.interface)
                for nat in server.nat where side.contains(nat.address) {
                    if rule.address == .av, let av = server.av, av != nat.address { continue }
                    hit.append("\(nat.publicAddress) -> \(nat.address) (\(server.label))")
                }
            }
            let applies =
                switch rule.when {
                case .translated: !hit.isEmpty
                case .severalServers: Set(servers.map(\.label)).count > 1 && !hit.isEmpty
                }
            guard applies else { continue }
            var text =
                "the topology translates \(hit.sorted().joined(separator: ", ")): \(rule.message) (\(rule.reference))"
            if rule.address == .av && servers.contains(where: { $0.av == nil }) {
                text += "; name the A/V Edge's address with av: if it is another one"
            }
            warnings.append(text)
        }
        return warnings
    }
}
