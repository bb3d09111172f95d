import Knowledge
import ScanModel

#if canImport(Glibc)
    import Glibc
#endif

/// What the base chain does with traffic the generated rules do not accept.
public enum ChainPolicy: String, Sendable, CaseIterable {
    /// Accept it (the default: the generated chain only accepts the listed traffic and leaves
    /// everything else to the operator's own ruleset).
    case accept
    /// Drop it (the generated chain becomes the whole policy; established traffic and loopback
    /// are still accepted).
    case drop
}

/// An IPv4 or IPv6 source prefix that may connect (`--source`), parsed and printed canonically.
public struct SourcePrefix: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Family: Sendable { case ipv4, ipv6 }
    public let family: Family
    /// The canonical text: `192.0.2.0/24`, `2001:db8::/32`.
    public let description: String
    /// The address in network byte order, and the prefix length.
    let bytes: [UInt8]
    public let length: Int

    /// Parses `ADDRESS` or `ADDRESS/LENGTH`; nil unless the address parses (inet_pton) and the
    /// length fits its family.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let addressText = parts.first, !addressText.isEmpty else { return nil }
        var v4 = in_addr()
        var v6 = in6_addr()
        let address = String(addressText)
        let maximum: Int
        var canonical = [CChar](repeating: 0, count: 64)
        if inet_pton(AF_INET, address, &v4) == 1 {
            family = .ipv4
            maximum = 32
            inet_ntop(AF_INET, &v4, &canonical, socklen_t(canonical.count))
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, address, &v6) == 1 {
            family = .ipv6
            maximum = 128
            inet_ntop(AF_INET6, &v6, &canonical, socklen_t(canonical.count))
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
        var length = maximum
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...maximum).contains(parsed), parts[1].allSatisfy(\.isNumber) else {
                return nil
            }
            length = parsed
        }
        self.length = length
        let addressCanonical = String(
            decoding: canonical.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        description = length == maximum ? addressCanonical : "\(addressCanonical)/\(length)"
    }

    public static func < (lhs: SourcePrefix, rhs: SourcePrefix) -> Bool { lhs.description < rhs.description }

    /// Whether every address of `other` is inside it.
    public func contains(_ other: SourcePrefix) -> Bool {
        guard family == other.family, other.length >= length else { return false }
        for bit in 0..<length where (bytes[bit / 8] ^ other.bytes[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 {
            return false
        }
        return true
    }

    /// The addresses both hold: the narrower of the two when one holds the other, else nil.
    public func intersection(_ other: SourcePrefix) -> SourcePrefix? {
        if contains(other) { return other }
        if other.contains(self) { return self }
        return nil
    }

    /// The prefix with the bits after its length cleared (`192.0.2.0/25` for `192.0.2.5/25`).
    public var network: SourcePrefix {
        var cleared = bytes
        for bit in length..<(bytes.count * 8) { cleared[bit / 8] &= ~(0x80 >> UInt8(bit % 8)) }
        var text = [CChar](repeating: 0, count: 64)
        cleared.withUnsafeBytes { raw in
            _ = inet_ntop(family == .ipv4 ? AF_INET : AF_INET6, raw.baseAddress, &text, socklen_t(text.count))
        }
        let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return SourcePrefix(isHost ? address : "\(address)/\(length)") ?? self
    }

    /// An address no server has: unspecified, loopback, multicast, or the IPv4 broadcast address.
    public var isReserved: Bool {
        switch family {
        case .ipv4:
            bytes.allSatisfy { $0 == 0 } || bytes[0] == 127 || (224...239).contains(bytes[0])
                || bytes.allSatisfy { $0 == 255 }
        case .ipv6:
            bytes.allSatisfy { $0 == 0 } || bytes == [UInt8](repeating: 0, count: 15) + [1] || bytes[0] == 0xFF
        }
    }

    /// Whether it is one address (no shorter prefix length).
    public var isHost: Bool { !description.contains("/") }
}

/// The options of a ruleset, validated.
public struct RuleOptions: Sendable {
    /// Only these roles (all when empty).
    public var roles: [RoleID] = []
    /// Add the documented ports of each detected role that the logs did not show.
    public var documented = false
    /// Who may connect (everyone when empty).
    public var sources: [SourcePrefix] = []
    /// Edge interfaces: `external` and `internal` to interface names.
    public var interfaces: [EdgeInterface: String] = [:]
    /// The nftables table name.
    public var table = "ocslog"
    /// The base chain's priority.
    public var priority = 0
    /// The base chain's policy.
    public var policy: ChainPolicy = .accept
    /// Count packets per rule.
    public var counters = false
    /// Also open the ports of firewall rules that are not OCS's (Windows' own, other products').
    public var allFirewallRules = false
    /// Where the servers sit: with it, the rules are for a firewall in front of them (forward hook).
    public var topology: Topology?
    /// Write the table's sets and chains without a base chain, into the operator's own table,
    /// for one `jump` line in their chain (nftables).
    public var baseChain = true

    /// A Linux interface name: 1-15 of A-Z a-z 0-9 _ . -, not starting with a dot or dash.
    public static func isInterfaceName(_ name: String) -> Bool {
        // 1-15 of A-Z a-z 0-9 _ . -, the first a letter or digit (no regex: ASCII classes).
        guard let first = name.first, (1...15).contains(name.count), first.isASCII, first.isLetter || first.isNumber
        else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    public init() {}

    /// Checks what rule text will be built from: table and interface names.
    public func validate() throws(RuleError) {
        let tableIsValid =
            table.first.map { $0.isASCII && $0.isLetter } == true && table.count <= 32
            && table.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard tableIsValid else {
            throw RuleError("table name '\(table)' must be a letter then up to 31 letters, digits or '_'")
        }
        for name in interfaces.values {
            guard Self.isInterfaceName(name) else {
                throw RuleError(
                    "interface name '\(name)' is not a valid Linux interface name (1-15 of A-Z a-z 0-9 _ . -)")
            }
        }
        guard (-400...400).contains(priority) else { throw RuleError("chain priority \(priority) is outside -400…400") }
        if topology != nil {
            guard sources.isEmpty else {
                throw RuleError("--source does not apply with --topology: the zones' networks say who may connect")
            }
            guard interfaces.isEmpty else {
                throw RuleError("--interface does not apply with --topology: the zones name the interfaces")
            }
        }
    }
}

/// A ruleset option or input that cannot make a valid ruleset.
public struct RuleError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The rules of one chain: a role, or one side of the Edge.
public struct ChainPlan: Sendable, Equatable {
    /// One port or range a chain accepts, with the evidence for it.
    public struct Element: Sendable, Equatable {
        public var transport: TransportProtocol
        public var range: PortRange
        /// `file:line` of the evidence, or `documented port of ROLE`, already safe for any target.
        public var comment: String
        public var origin: ExceptionOrigin
        /// Who may connect, when the firewall rule it comes from allows only some addresses
        /// (sorted; empty: whoever the ruleset's own `--source` lets in).
        public var sources: [SourcePrefix] = []
        /// The server's own addresses the firewall rule is bound to (sorted; empty: any).
        public var destinations: [SourcePrefix] = []

        /// Whether it is accepted only from some addresses or only to some.
        public var isScoped: Bool { !sources.isEmpty || !destinations.isEmpty }

        /// The address matches it needs in one family: nil when it cannot match that family (it
        /// names addresses of the other family only); each list empty when it does not restrict.
        public func matches(_ family: SourcePrefix.Family) -> (sources: [SourcePrefix], destinations: [SourcePrefix])? {
            let from = sources.filter { $0.family == family }
            let to = destinations.filter { $0.family == family }
            if !sources.isEmpty && from.isEmpty { return nil }
            if !destinations.isEmpty && to.isEmpty { return nil }
            return (from, to)
        }
    }

    public var role: RoleID
    public var interface: EdgeInterface?
    /// What the chain accepts from any source (sets of ports).
    public var elements: [Element]
    /// What the chain accepts only from some addresses (one rule each), from firewall rules scoped to them.
    public var scoped: [Element] = []

    /// `front_end`, `edge_external`: letters, digits and `_` only.
    public var name: String {
        let base = role.rawValue + (interface.map { "_" + $0.rawValue } ?? "")
        return String(base.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    public func elements(of transport: TransportProtocol) -> [Element] { elements.filter { $0.transport == transport } }
}

/// What a ruleset opens, per chain, built from a scan result: sorted, merged, commented.
public struct RulePlan: Sendable {
    public var chains: [ChainPlan]
    /// The inputs the scan read (sorted, sanitized), for the file's header.
    public var inputs: [String]
    /// Things the operator should know (an Edge without interface names, a role without ports).
    public var warnings: [String]

    /// One element a ruleset may open, with the server and role it is for.
    struct Item {
        var role: RoleID
        var interface: EdgeInterface?
        /// The computer name its log states.
        var server: String?
        var element: ChainPlan.Element
    }

    /// Builds the plan; the same result gives the same plan whatever the order of its inputs.
    public static func build(from result: ScanResult, knowledge: KnowledgeBase, options: RuleOptions) -> RulePlan {
        struct ChainKey: Hashable {
            var role: RoleID
            var interface: EdgeInterface?
        }
        var entries: [ChainKey: [ChainPlan.Element]] = [:]
        let (items, collectedWarnings) = collect(from: result, knowledge: knowledge, options: options)
        for item in items {
            entries[ChainKey(role: item.role, interface: item.interface), default: []].append(item.element)
        }
        var chains: [ChainPlan] = []
        for (key, elements) in entries {
            let (role, interface) = (key.role, key.interface)
            let open = merge(elements.filter { !$0.isScoped })
            chains.append(
                ChainPlan(
                    role: role, interface: interface, elements: open,
                    scoped: mergeScoped(elements.filter(\.isScoped), open: open)))
        }
        chains.sort {
            ($0.role.rawValue, $0.interface?.rawValue ?? "") < ($1.role.rawValue, $1.interface?.rawValue ?? "")
        }
        var warnings = collectedWarnings
        let scopedCount = chains.reduce(0) { $0 + $1.scoped.count }
        if scopedCount > 0 {
            warnings.append(
                "\(scopedCount) port\(scopedCount == 1 ? "" : "s") the firewall allows only for some addresses: nftables "
                    + "and iptables accept those only, firewalld and ufw leave them out")
        }
        if chains.contains(where: { $0.role == "edge" }) {
            if chains.contains(where: { $0.role == "edge" && $0.interface == nil }) {
                warnings.append("some Edge ports name no interface; they are accepted on every interface")
            }
            if options.interfaces.isEmpty {
                warnings.append(
                    "no --interface external=IF,internal=IF: the Edge's external and internal chains apply to every interface"
                )
            }
        }
        if options.policy == .drop {
            warnings.append(
                "SSH and anything else to this host itself is dropped unless listed: add your own rules (e.g. tcp dport 22) "
                    + "before loading")
        }
        let inputs = Set(result.inputs.map { Comment.sanitize($0.path) }).sorted()
        return RulePlan(chains: chains, inputs: inputs, warnings: warnings)
    }

    /// What a ruleset may open, per role, Edge side and server, and what was left out (warnings).
    static func collect(from result: ScanResult, knowledge: KnowledgeBase, options: RuleOptions) -> ([Item], [String]) {
        var items: [Item] = []
        func add(role: RoleID, interface: EdgeInterface?, server: String?, _ element: ChainPlan.Element) {
            items.append(Item(role: role, interface: interface, server: server, element: element))
        }
        let wanted = Set(options.roles)
        // A port no log states (a program's documented ports) is opened only when asked for.
        var leftOut = 0
        var keywordScoped: [String] = []
        var scopeNotStated = 0
        var otherLeftOut = 0
        var exceptions = result.exceptions
        if options.allFirewallRules {
            exceptions += result.otherExceptions ?? []
        } else {
            otherLeftOut = result.otherExceptions?.count ?? 0
        }
        for exception in exceptions where wanted.isEmpty || wanted.contains(exception.role) {
            if exception.origin == .documented && !options.documented {
                leftOut += 1
                continue
            }
            // A firewall rule open only to some addresses stays so; one open to a keyword
            // (LocalSubnet, DNS, …) names no fixed addresses and is left out, never widened; so is
            // one from a record that does not say who may connect. Its bound local addresses too.
            var sources: [SourcePrefix] = []
            if let remote = exception.remote {
                let parsed = remote.map { ($0, SourcePrefix($0)) }
                if let keyword = parsed.first(where: { $0.1 == nil }) {
                    if keyword.0 == "not-stated" { scopeNotStated += 1 } else { keywordScoped.append(keyword.0) }
                    continue
                }
                sources = parsed.compactMap(\.1).sorted()
            }
            var destinations: [SourcePrefix] = []
            if let local = exception.local {
                let parsed = local.map { ($0, SourcePrefix($0)) }
                if let keyword = parsed.first(where: { $0.1 == nil }) {
                    keywordScoped.append("local " + keyword.0)
                    continue
                }
                destinations = parsed.compactMap(\.1).sorted()
            }
            let range = exception.range
            let file = Comment.evidenceFile(exception.evidence)
            let comment =
                switch exception.origin {
                case .log: "\(file):\(exception.evidence.line)"
                case .firewall: "firewall rule \(file):\(exception.evidence.line)"
                case .documented: "documented port of \(exception.role) (\(file):\(exception.evidence.line))"
                }
            add(
                role: exception.role, interface: exception.role == .edge ? exception.interface : nil,
                server: exception.server,
                ChainPlan.Element(
                    transport: exception.protocol, range: range, comment: Comment.sanitize(comment),
                    origin: exception.origin, sources: sources, destinations: destinations))
        }
        if options.documented {
            // Per server: each server gets the documented ports of the roles its logs show.
            var detected: [String: Set<RoleID>] = [:]
            var computers: [String: String?] = [:]
            for (computer, role) in result.inputs.map({ ($0.server, $0.role) })
                + result.exceptions.map({ ($0.server, $0.role) })
            {
                let key = computer?.lowercased() ?? ""
                detected[key, default: []].insert(role)
                computers[key] = computer
            }
            for (key, roles) in detected.sorted(by: { $0.key < $1.key }) {
                for port in knowledge.ports
                where roles.contains(port.role) && (wanted.isEmpty || wanted.contains(port.role)) {
                    for transport in port.protocols {
                        add(
                            role: port.role, interface: port.interface, server: computers[key] ?? nil,
                            ChainPlan.Element(
                                transport: transport, range: port.range,
                                comment: Comment.sanitize("documented port of \(port.role): \(port.purpose)"),
                                origin: .documented))
                    }
                }
            }
        }
        var warnings: [String] = []
        if leftOut > 0 {
            warnings.append(
                "\(leftOut) port\(leftOut == 1 ? "" : "s") no log line states left out (programs named without a port)")
        }
        if !keywordScoped.isEmpty {
            var keywords: [String] = []
            var seen = Set<String>()
            for keyword in keywordScoped where seen.insert(keyword).inserted {
                keywords.append(keyword)
                if keywords.count == 3 { break }
            }
            warnings.append(
                "\(keywordScoped.count) port\(keywordScoped.count == 1 ? "" : "s") of firewall rules left out: allowed only "
                    + "from \(keywords.prefix(3).joined(separator: ", ")), which names no fixed addresses")
        }
        if scopeNotStated > 0 {
            warnings.append(
                "\(scopeNotStated) port\(scopeNotStated == 1 ? "" : "s") left out: the record does not say who may connect "
                    + "(netsh firewall show config without verbose = enable)")
        }
        if otherLeftOut > 0 {
            warnings.append(
                "\(otherLeftOut) open port\(otherLeftOut == 1 ? "" : "s") of firewall rules that are not OCS rules left out "
                    + "(--all-firewall-rules adds them)")
        }
        return (items, warnings)
    }

    /// Scoped elements: one per protocol, range and sources (sorted, duplicates dropped; a port open
    /// to everyone in the same chain makes a scoped copy of it redundant, and it goes).
    static func mergeScoped(_ elements: [ChainPlan.Element], open: [ChainPlan.Element]) -> [ChainPlan.Element] {
        var seen = Set<String>()
        // The open elements are merged: sorted, without overlaps, per protocol. Binary search.
        var byTransport: [TransportProtocol: [ClosedRange<Int>]] = [:]
        for element in open {
            byTransport[element.transport, default: []].append(
                Int(element.range.lowerBound.rawValue)...Int(element.range.upperBound.rawValue))
        }
        func covered(_ element: ChainPlan.Element) -> Bool {
            guard let ranges = byTransport[element.transport] else { return false }
            let low = Int(element.range.lowerBound.rawValue)
            let high = Int(element.range.upperBound.rawValue)
            var lower = 0
            var upper = ranges.count
            while lower < upper {
                let middle = (lower + upper) / 2
                if ranges[middle].upperBound < low { lower = middle + 1 } else { upper = middle }
            }
            return lower < ranges.count && ranges[lower].lowerBound <= low && high <= ranges[lower].upperBound
        }
        let elements = elements.filter { !covered($0) }
        return elements.sorted {
            (
                $0.transport.rawValue, $0.range.lowerBound, $0.range.upperBound,
                $0.sources.map(\.description).joined(separator: ","), $0.comment
            )
                < (
                    $1.transport.rawValue, $1.range.lowerBound, $1.range.upperBound,
                    $1.sources.map(\.description).joined(separator: ","), $1.comment
                )
        }.filter { element in
            seen.insert(
                "\(element.transport)|\(element.range)|\(element.sources.map(\.description))|\(element.destinations.map(\.description))"
            ).inserted
        }
    }

    /// Sorts, removes duplicates and merges overlapping or adjacent ranges of one protocol; a
    /// merged element keeps the smallest comment and counts the others.
    static func merge(_ elements: [ChainPlan.Element]) -> [ChainPlan.Element] {
        var merged: [ChainPlan.Element] = []
        var extra: [Int] = []
        let sorted = elements.sorted {
            ($0.transport.rawValue, $0.range.lowerBound, $0.range.upperBound, $0.origin.rawValue, $0.comment)
                < ($1.transport.rawValue, $1.range.lowerBound, $1.range.upperBound, $1.origin.rawValue, $1.comment)
        }
        var previous: ChainPlan.Element?
        for element in sorted {
            // The same port with the same evidence twice (a documented port of two servers) counts once.
            if element == previous { continue }
            previous = element
            if var last = merged.last, last.transport == element.transport,
                Int(element.range.lowerBound.rawValue) <= Int(last.range.upperBound.rawValue) + 1
            {
                if element.range.upperBound > last.range.upperBound,
                    let range = PortRange(last.range.lowerBound, element.range.upperBound)
                {
                    last.range = range
                }
                if element.origin == .log && last.origin != .log {
                    last.origin = .log
                    last.comment = element.comment
                } else if element.comment != last.comment {
                    extra[extra.count - 1] += 1
                }
                merged[merged.count - 1] = last
            } else {
                merged.append(element)
                extra.append(0)
            }
        }
        for index in merged.indices where extra[index] > 0 {
            merged[index].comment = Comment.sanitize(merged[index].comment + " +\(extra[index]) more")
        }
        return merged
    }
}

/// Comment text safe in every target: printable ASCII letters, digits, space and `._:/,()@+=-`,
/// everything else replaced; at most ``maximumLength`` bytes.
public enum Comment {
    /// nft allows 128 bytes of comment; iptables 256; keep well inside both.
    public static let maximumLength = 100

    /// The file an evidence is in, as rule comments name it: its base name, and the log of a stream
    /// or a file of several logs as `(log 3)` (`-(log 3)` for the third log of standard input).
    public static func evidenceFile(_ evidence: Evidence) -> String {
        let name =
            evidence.path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? evidence.path
        return name + (evidence.log.map { "(log \($0))" } ?? "")
    }

    public static func sanitize(_ text: String, maximumLength: Int = Comment.maximumLength) -> String {
        var output = ""
        var lastWasSpace = false
        for scalar in text.unicodeScalars {
            let allowed =
                scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || "._:/,()@+=-".unicodeScalars.contains(scalar))
            if allowed {
                output.unicodeScalars.append(scalar)
                lastWasSpace = false
            } else if !lastWasSpace && !output.isEmpty {
                output.append(" ")
                lastWasSpace = true
            }
            if output.utf8.count >= maximumLength { break }
        }
        while output.hasSuffix(" ") { output.removeLast() }
        return output.isEmpty ? "ocslog" : String(output.prefix(maximumLength))
    }
}
