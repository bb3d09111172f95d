import Foundation
import Knowledge
import ScanModel
import Yams

/// Where the servers sit for a firewall in front of them (`--topology FILE`): zones (where
/// traffic comes from, by interface and network) and servers (their addresses, per Edge side,
/// and the public addresses translated to them). Read from YAML; every value is checked and an
/// error names the line.
public struct Topology: Sendable {
    /// A network the firewall tells apart by its interfaces and, when given, its networks.
    public struct Zone: Sendable, Equatable {
        public var name: String
        public var kind: ZoneKind
        public var interfaces: [String]
        public var networks: [SourcePrefix]
        public var line: Int
    }

    /// A public address the firewall translates to one of a server's addresses.
    public struct Translation: Sendable, Equatable {
        public var publicAddress: SourcePrefix
        public var address: SourcePrefix
        public var line: Int
    }

    /// One server, or with a role and no name every server of that role.
    public struct Server: Sendable, Equatable {
        /// The computer name as the logs state it (nil: every log of ``role``).
        public var name: String?
        public var role: RoleID?
        public var zone: String
        /// A server's addresses (not an Edge's).
        public var addresses: [SourcePrefix]
        /// An Edge's external and internal addresses.
        public var external: [SourcePrefix]
        public var `internal`: [SourcePrefix]
        /// The A/V Edge's external address, when the file says which it is.
        public var av: SourcePrefix?
        public var nat: [Translation]
        public var line: Int

        /// Whether it has Edge sides.
        public var isEdge: Bool { !external.isEmpty || !`internal`.isEmpty }

        /// `fe01.contoso.com`, or `every edge` for a role alone.
        public var label: String { name ?? "every \(role ?? "server")" }

        /// Letters, digits and `_`, starting with a letter, at most 48 characters (a longer name
        /// is cut and ends in a hash of the whole): the server's name (or role) in rule names.
        public var key: String {
            let source = (name ?? role?.rawValue ?? "server").lowercased()
            var key = String(source.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
            if key.first?.isLetter != true || Topology.reservedKeys.contains(key) { key = "server_" + key }
            if key.count > 48 {
                // FNV-1a of the whole name keeps cut names apart.
                var hash: UInt32 = 2_166_136_261
                for byte in source.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
                key = String(key.prefix(39)) + "_" + String(hash, radix: 16)
            }
            return key
        }

        /// Its addresses on one side (`external`, `internal`; nil: all of them).
        public func addresses(side: EdgeInterface?) -> [SourcePrefix] {
            switch side {
            case .external: external
            case .internal: `internal`
            case nil: isEdge ? external + `internal` : addresses
            }
        }

        /// Whether a log of this computer name and role is this server's. A named server takes
        /// every role its logs show (roles share a server), but an Edge's logs only go to an Edge
        /// (their ports belong to a side) and an Edge takes no other role's.
        func matches(computer: String?, role logRole: RoleID) -> Bool {
            if let name {
                guard let computer, Topology.sameComputer(name, computer) else { return false }
                return (logRole == .edge) == isEdge
            }
            return role == logRole
        }
    }

    public var zones: [Zone]
    public var servers: [Server]
    /// The file it was read from (for headers and messages).
    public var path: String

    /// The zone of this name.
    public func zone(_ name: String) -> Zone? { zones.first { $0.name == name } }

    /// Names a ruleset uses itself: a server's rule names never equal them.
    static let reservedKeys: Set<String> = ["forward", "input", "output", "prerouting", "postrouting"]

    /// The servers a log's exception may belong to: those named as the log names its computer
    /// (more than one when a short name is ambiguous), else the one for its role alone.
    public func servers(computer: String?, role: RoleID) -> [Server] {
        if let computer {
            let named = servers.filter { $0.name != nil && $0.matches(computer: computer, role: role) }
            if !named.isEmpty { return named }
        }
        return servers.filter { $0.name == nil && $0.role == role }
    }

    /// The one server a log's exception belongs to; nil when none or several match.
    public func server(computer: String?, role: RoleID) -> Server? {
        let found = servers(computer: computer, role: role)
        return found.count == 1 ? found[0] : nil
    }

    /// Host names compare without case, and a short name equals the first label of a full one.
    static func sameComputer(_ a: String, _ b: String) -> Bool {
        let left = a.lowercased()
        let right = b.lowercased()
        if left == right { return true }
        if !left.contains(".") || !right.contains(".") {
            return left.split(separator: ".").first == right.split(separator: ".").first
        }
        return false
    }
}

/// A topology file that cannot be used: the file, the line and what to fix.
public struct TopologyError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int?
    public let message: String

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

extension Topology {
    /// Parses and checks a topology file's text.
    public static func parse(_ text: String, file: String, roles: Set<RoleID>) throws(TopologyError) -> Topology {
        var reader = TopologyReader(file: file, roles: roles)
        return try reader.read(text)
    }
}

/// Reads the YAML node tree, so that every error can name its line.
private struct TopologyReader {
    let file: String
    let roles: Set<RoleID>

    func fail(_ node: Node?, _ message: String) -> TopologyError {
        TopologyError(file: file, line: node?.mark?.line, message: message)
    }

    mutating func read(_ text: String) throws(TopologyError) -> Topology {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            if case .duplicatedKeysInMapping(let duplicates, let context) = error {
                let key = duplicates.first ?? ""
                throw TopologyError(
                    file: file, line: Self.secondLine(of: key, in: text) ?? context.mark.line,
                    message: "'\(key)' is given twice in one mapping: give it once")
            }
            throw TopologyError(
                file: file, line: Self.line(of: error), message: "not valid YAML: \(Self.problem(of: error))")
        } catch {
            throw TopologyError(file: file, line: nil, message: "not valid YAML: \(error)")
        }
        guard let root, case .mapping(let top) = root else {
            throw fail(root, "a topology is a mapping with zones: and servers:")
        }
        var zonesNode: Node?
        var serversNode: Node?
        for (key, value) in top {
            switch try string(key, "a key") {
            case "zones": zonesNode = value
            case "servers": serversNode = value
            case let other: throw fail(key, "unknown key '\(other)' (zones, servers)")
            }
        }
        guard let zonesNode else {
            throw fail(root, "no zones: (where traffic comes from: internet, perimeter, internal)")
        }
        guard let serversNode else { throw fail(root, "no servers: (each with its zone and addresses)") }
        let zones = try readZones(zonesNode)
        let servers = try readServers(serversNode, zones: zones)
        return Topology(zones: zones, servers: servers, path: file)
    }

    func readZones(_ node: Node) throws(TopologyError) -> [Topology.Zone] {
        guard case .mapping(let mapping) = node, !mapping.isEmpty else {
            throw fail(node, "zones: is a mapping of zone names, e.g. internet: {interfaces: [eth0]}")
        }
        var zones: [Topology.Zone] = []
        var owner: [String: String] = [:]
        // Zones and servers of a role are both peers in rule names (`front_end_from_internal_tcp`).
        var taken: [String: String] = [:]
        for role in roles {
            let label = role.rawValue.replacingOccurrences(of: "-", with: "_")
            for name in [label, label + "_external", label + "_internal"] { taken[name] = "the role \(role)" }
        }
        for (key, value) in mapping {
            let name = try string(key, "a zone name")
            guard Self.isName(name) else {
                throw fail(key, "zone name '\(name)' must be a letter then up to 31 letters, digits, '_' or '-'")
            }
            let label = name.replacingOccurrences(of: "-", with: "_")
            if let other = taken[label] {
                throw fail(key, "zone name '\(name)' reads as \(other) in rule names: choose another name")
            }
            taken[label] = "zone '\(name)'"
            guard case .mapping(let fields) = value else {
                throw fail(value, "zone '\(name)' is a mapping: {interfaces: [...], networks: [...], kind: ...}")
            }
            var kind = ZoneKind(rawValue: name)
            var interfaces: [String] = []
            var networks: [SourcePrefix] = []
            for (fieldKey, fieldValue) in fields {
                switch try string(fieldKey, "a key") {
                case "kind":
                    let text = try string(fieldValue, "a zone kind")
                    guard let parsed = ZoneKind(rawValue: text) else {
                        throw fail(fieldValue, "zone '\(name)': kind '\(text)' must be internet, perimeter or internal")
                    }
                    kind = parsed
                case "interfaces":
                    for item in try list(fieldValue, "interfaces") {
                        let interface = try string(item, "an interface name")
                        guard RuleOptions.isInterfaceName(interface) else {
                            throw fail(
                                item,
                                "zone '\(name)': '\(interface)' is not a Linux interface name (1-15 of A-Z a-z 0-9 _ . -)"
                            )
                        }
                        if let other = owner[interface] {
                            throw fail(
                                item,
                                "interface '\(interface)' is in zone '\(other)' and zone '\(name)': one zone per interface"
                            )
                        }
                        owner[interface] = name
                        interfaces.append(interface)
                    }
                case "networks":
                    for item in try list(fieldValue, "networks") {
                        let text = try string(item, "a network")
                        guard let prefix = SourcePrefix(text) else {
                            throw fail(
                                item, "zone '\(name)': '\(text)' is not an IPv4 or IPv6 network (ADDRESS/LENGTH)")
                        }
                        guard prefix.network == prefix else {
                            throw fail(
                                item,
                                "zone '\(name)': '\(text)' has bits set after its length: did you mean \(prefix.network)?"
                            )
                        }
                        networks.append(prefix)
                    }
                case let other:
                    throw fail(fieldKey, "zone '\(name)': unknown key '\(other)' (interfaces, networks, kind)")
                }
            }
            guard let kind else {
                throw fail(
                    key,
                    "zone '\(name)' needs kind: internet, perimeter or internal (the knowledge says which kind uses a port)"
                )
            }
            guard !interfaces.isEmpty || !networks.isEmpty else {
                throw fail(key, "zone '\(name)' has neither interfaces nor networks: its traffic cannot be told apart")
            }
            zones.append(
                Topology.Zone(
                    name: name, kind: kind, interfaces: interfaces, networks: networks, line: key.mark?.line ?? 0))
        }
        return zones
    }

    func readServers(_ node: Node, zones: [Topology.Zone]) throws(TopologyError) -> [Topology.Server] {
        guard case .sequence(let sequence) = node, !sequence.isEmpty else {
            throw fail(
                node,
                "servers: is a list, e.g. - {name: fe01.contoso.com, role: front-end, zone: internal, addresses: [...]}"
            )
        }
        var servers: [Topology.Server] = []
        var addressOwner: [SourcePrefix: String] = [:]
        for item in sequence {
            guard case .mapping(let fields) = item else {
                throw fail(item, "a server is a mapping: {name: ..., role: ..., zone: ..., addresses: [...]}")
            }
            let line = item.mark?.line ?? 0
            var server = Topology.Server(
                name: nil, role: nil, zone: "", addresses: [], external: [], internal: [], av: nil, nat: [], line: line)
            var zoneNode: Node?
            var natNode: Node?
            var avNode: Node?
            for (key, value) in fields {
                switch try string(key, "a key") {
                case "name":
                    let name = try string(value, "a computer name")
                    guard Self.isHostName(name) else {
                        throw fail(value, "'\(name)' is not a computer name (letters, digits, '-' and '.')")
                    }
                    server.name = name
                case "role":
                    let role = RoleID(try string(value, "a role"))
                    guard roles.contains(role) else {
                        throw fail(
                            value, "unknown role '\(role)' (\(roles.sorted().map(\.rawValue).joined(separator: ", ")))")
                    }
                    server.role = role
                case "zone":
                    server.zone = try string(value, "a zone name")
                    zoneNode = value
                case "addresses": server.addresses = try addresses(value, "addresses")
                case "external": server.external = try addresses(value, "external")
                case "internal": server.internal = try addresses(value, "internal")
                case "av": avNode = value
                case "nat": natNode = value
                case let other:
                    throw fail(key, "unknown key '\(other)' (name, role, zone, addresses, external, internal, av, nat)")
                }
            }
            guard server.name != nil || server.role != nil else {
                throw fail(item, "a server needs name: (as its logs state it) or role: (every log of that role)")
            }
            guard let zoneNode else { throw fail(item, "server \(server.label) needs zone: (one of the zones)") }
            guard zones.contains(where: { $0.name == server.zone }) else {
                throw fail(
                    zoneNode,
                    "unknown zone '\(server.zone)' (zones: \(zones.map(\.name).joined(separator: ", ")))")
            }
            if server.isEdge {
                guard server.addresses.isEmpty else {
                    throw fail(
                        item, "server \(server.label): an Edge has external: and internal: addresses, not addresses:")
                }
                if server.role == nil { server.role = "edge" }
                guard server.role == "edge" else {
                    throw fail(
                        item, "server \(server.label): external: and internal: are the Edge's sides (role: edge)")
                }
            } else if server.role == "edge" {
                throw fail(item, "server \(server.label): an Edge needs external: and internal: addresses")
            } else if server.addresses.isEmpty {
                throw fail(item, "server \(server.label) needs addresses:")
            }
            if let avNode {
                let text = try string(avNode, "an address")
                guard let address = SourcePrefix(text), server.external.contains(address) else {
                    throw fail(avNode, "av: '\(text)' must be one of the Edge's external addresses")
                }
                server.av = address
            }
            if let natNode { server.nat = try translations(natNode, server: server) }
            for existing in servers {
                let sameName =
                    existing.name != nil && server.name != nil && Topology.sameComputer(existing.name!, server.name!)
                let sameRole = existing.name == nil && server.name == nil && existing.role == server.role
                if sameName || sameRole {
                    throw fail(item, "duplicate server \(server.label) (also on line \(existing.line))")
                }
                // Rule names are KEY, KEY_external, KEY_from_PEER_tcp, …: one key may not start another's.
                let (a, b) = (existing.key, server.key)
                if a == b || a.hasPrefix(b + "_") || b.hasPrefix(a + "_") {
                    throw fail(
                        item,
                        "server \(server.label) and the one on line \(existing.line) read alike in rule names (\(b), \(a)): "
                            + "give one of them another name: or role:")
                }
            }
            for address in server.addresses(side: nil) + server.nat.map(\.publicAddress) {
                if let other = addressOwner[address] {
                    throw fail(item, "address \(address) is \(other)'s too: each address belongs to one server")
                }
                addressOwner[address] = server.label
            }
            servers.append(server)
        }
        return servers
    }

    func translations(_ node: Node, server: Topology.Server) throws(TopologyError) -> [Topology.Translation] {
        guard case .mapping(let mapping) = node else {
            throw fail(node, "nat: is a mapping PUBLIC: ADDRESS, e.g. {203.0.113.10: 198.51.100.10}")
        }
        var result: [Topology.Translation] = []
        for (key, value) in mapping {
            let publicText = try string(key, "a public address")
            let targetText = try string(value, "an address")
            guard let publicAddress = SourcePrefix(publicText), publicAddress.isHost, publicAddress.family == .ipv4
            else {
                throw fail(
                    key, "nat: '\(publicText)' is not an IPv4 address (IPv6 addresses are routed, not translated)")
            }
            let own = server.isEdge ? server.external : server.addresses
            guard let address = SourcePrefix(targetText), own.contains(address) else {
                throw fail(
                    value,
                    "nat: '\(targetText)' must be one of server \(server.label)'s \(server.isEdge ? "external " : "")addresses"
                )
            }
            guard address.family == .ipv4 else { throw fail(value, "nat: '\(targetText)' is not an IPv4 address") }
            guard !result.contains(where: { $0.address == address }) else {
                throw fail(
                    key, "nat: \(address) is translated from two public addresses: one public address per address")
            }
            result.append(
                Topology.Translation(publicAddress: publicAddress, address: address, line: key.mark?.line ?? 0))
        }
        return result
    }

    func addresses(_ node: Node, _ what: String) throws(TopologyError) -> [SourcePrefix] {
        var result: [SourcePrefix] = []
        for item in try list(node, what) {
            let text = try string(item, "an address")
            guard let address = SourcePrefix(text) else {
                throw fail(item, "\(what): '\(text)' is not an IPv4 or IPv6 address")
            }
            guard address.isHost else {
                throw fail(item, "\(what): '\(text)' is a network; a server's addresses are single addresses")
            }
            guard !address.isReserved else {
                throw fail(
                    item, "\(what): '\(text)' is no server's address (unspecified, loopback, multicast or broadcast)")
            }
            guard !result.contains(address) else { throw fail(item, "\(what): '\(text)' is listed twice") }
            result.append(address)
        }
        return result
    }

    func list(_ node: Node, _ what: String) throws(TopologyError) -> [Node] {
        if case .sequence(let sequence) = node, !sequence.isEmpty { return Array(sequence) }
        throw fail(node, "\(what): is a list, e.g. [a, b]")
    }

    func string(_ node: Node, _ what: String) throws(TopologyError) -> String {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            throw fail(node, "expected \(what), not a list or mapping")
        }
        return scalar.string
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic, text.utf8.count <= 32
        else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
        }
    }

    static func isHostName(_ text: String) -> Bool {
        text.utf8.count <= 253 && !text.hasPrefix(".") && !text.hasSuffix(".")
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == ".")
            }
    }

    /// The line where a key appears for the second time (as `key:` at a line's start, after `- `
    /// or inside a flow mapping).
    static func secondLine(of key: String, in text: String) -> Int? {
        var seen = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = Substring(line)
            while let range = rest.range(of: key + ":") {
                let before = rest[..<range.lowerBound].last
                if before == nil || before == " " || before == "{" || before == "," || before == "-" || before == "\"" {
                    seen += 1
                    if seen == 2 { return index + 1 }
                }
                rest = rest[range.upperBound...]
            }
        }
        return nil
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        default: "\(error)"
        }
    }
}
