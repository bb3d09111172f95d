import Foundation
import Knowledge
import ScanModel

/// The pieces of an nftables ruleset before they are wrapped: in a table of their own with a
/// base chain (a complete firewall, or one that only accepts), or added to the operator's own
/// table without one (`--no-base-chain`, for one `jump` line in their chain).
struct NFTBody {
    struct NamedSet {
        var name: String
        var type: String
        var interval: Bool
        var elements: [String]
        /// One element per line (ports with their comments) or all on one line (addresses).
        var multiline: Bool
    }

    var sets: [NamedSet] = []
    var chains: [(name: String, rules: [String])] = []
    /// The rules of the base chain (or of the dispatch chain the operator jumps to).
    var dispatch: [String] = []
    /// Rules before the dispatch: what a complete firewall always accepts.
    var preamble: [String] = []
}

/// The nftables rulesets: for a host that serves the ports itself (input hook), or with a
/// topology for the firewall in front of the servers (forward hook, DNAT in its own table).
/// A table of its own is replaced by loading again; without a base chain, the file's chains and
/// sets are flushed and filled again in the operator's table.
public enum NFTWriter {
    /// The most set elements written in one statement.
    static let setChunk = 500

    /// The host ruleset: one chain per role (and Edge side) jumped to from the input hook.
    public static func render(_ plan: RulePlan, options: RuleOptions, generator: Generator) -> String {
        let prefix = options.baseChain ? "" : "ocslog_"
        var body = NFTBody()
        if !options.sources.isEmpty {
            for (family, name, type) in [
                (SourcePrefix.Family.ipv4, "sources_v4", "ipv4_addr"), (.ipv6, "sources_v6", "ipv6_addr"),
            ] {
                let prefixes = options.sources.filter { $0.family == family }.sorted()
                guard !prefixes.isEmpty else { continue }
                body.sets.append(
                    .init(
                        name: prefix + name, type: type, interval: true, elements: prefixes.map(\.description),
                        multiline: false))
            }
        }
        let counter = options.counters ? "counter " : ""
        for chain in plan.chains {
            for transport in TransportProtocol.allCases {
                let elements = chain.elements(of: transport)
                guard !elements.isEmpty else { continue }
                body.sets.append(portSet(prefix + chain.name + "_" + transport.rawValue, elements, options: options))
            }
        }
        for chain in plan.chains {
            var rules: [String] = []
            for transport in TransportProtocol.allCases where !chain.elements(of: transport).isEmpty {
                rules.append(
                    "\(transport.rawValue) dport @\(prefix)\(chain.name)_\(transport.rawValue) \(counter)accept")
            }
            // Ports a firewall rule allows only from some addresses: one rule per address family.
            for element in chain.scoped {
                rules += scopedRules(element, peer: nil, inbound: true, counter: counter)
            }
            body.chains.append((prefix + chain.name, rules))
        }
        if options.policy == .drop && options.baseChain {
            body.preamble = ["ct state established,related accept", "iif \"lo\" accept"]
            // IPv6 stops working without neighbour discovery; path MTU and error reports must pass too.
            body.preamble.append(
                "icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, "
                    + "nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept")
            body.preamble.append("icmp type { destination-unreachable, time-exceeded, parameter-problem } accept")
        }
        var sourceMatches: [String] = []
        if options.sources.isEmpty {
            sourceMatches = [""]
        } else {
            if options.sources.contains(where: { $0.family == .ipv4 }) {
                sourceMatches.append("ip saddr @\(prefix)sources_v4 ")
            }
            if options.sources.contains(where: { $0.family == .ipv6 }) {
                sourceMatches.append("ip6 saddr @\(prefix)sources_v6 ")
            }
        }
        for chain in plan.chains {
            let interface = chain.interface.flatMap { options.interfaces[$0] }.map { "iifname \"\($0)\" " } ?? ""
            for source in sourceMatches {
                body.dispatch.append("\(interface)\(source)jump \(prefix)\(chain.name)")
            }
        }
        let lead = [
            "For:       a Linux host that itself serves these ports (input hook). For the firewall in front of",
            "           the OCS servers (they run Windows), write forward rules with --topology FILE.",
        ]
        return wrap(
            body, hook: "input", options: options, generator: generator, inputs: plan.inputs, warnings: plan.warnings,
            lead: lead, policy: NFTWriter.policyNote(options.policy, hook: "input"))
    }

    /// The firewall in front of the servers: per server (and Edge side) a chain for the traffic to
    /// its addresses (and one for the traffic it starts), jumped to by address from the forward
    /// hook; translations in `table ip NAME_nat`.
    public static func render(_ plan: ForwardPlan, options: RuleOptions, generator: Generator) -> String {
        let prefix = options.baseChain ? "" : "ocslog_"
        var body = NFTBody()
        let counter = options.counters ? "counter " : ""
        for destination in plan.destinations {
            let name = prefix + destination.name
            for (family, suffix, type) in [
                (SourcePrefix.Family.ipv4, "v4", "ipv4_addr"), (.ipv6, "v6", "ipv6_addr"),
            ] {
                let addresses = destination.addresses(family)
                guard !addresses.isEmpty else { continue }
                body.sets.append(
                    .init(
                        name: "\(name)_\(suffix)", type: type, interval: false,
                        elements: addresses.sorted().map(\.description), multiline: false))
                let match = family == .ipv4 ? "ip" : "ip6"
                body.dispatch.append("\(match) daddr @\(name)_\(suffix) jump \(name)")
                if !destination.outbound.isEmpty {
                    body.dispatch.append("\(match) saddr @\(name)_\(suffix) jump \(name)_out")
                }
            }
            for (groups, inbound) in [(destination.inbound, true), (destination.outbound, false)] where !groups.isEmpty
            {
                var rules: [String] = []
                for group in groups {
                    let peer = group.peer.label.replacingOccurrences(of: "-", with: "_")
                    for transport in TransportProtocol.allCases {
                        let elements = group.elements(of: transport)
                        guard !elements.isEmpty else { continue }
                        let set = "\(name)_\(inbound ? "from" : "to")_\(peer)_\(transport.rawValue)"
                        body.sets.append(portSet(set, elements, options: options))
                        for match in peerMatches(group.peer, inbound: inbound) {
                            rules.append("\(match)\(transport.rawValue) dport @\(set) \(counter)accept")
                        }
                    }
                    for element in group.scoped {
                        rules += scopedRules(element, peer: group.peer, inbound: inbound, counter: counter)
                    }
                }
                body.chains.append((inbound ? name : name + "_out", rules))
            }
        }
        // Replies, and the ICMP errors about them (related), pass; no other ICMP is forwarded.
        body.preamble = ["ct state established,related accept"]
        var lead = [
            "Topology:  \(plan.topology)",
            "For:       a Linux firewall in front of the OCS servers (forward hook): it filters the traffic it",
            "           routes to and from their addresses. Requires forwarding: sysctl -w net.ipv4.ip_forward=1",
            "           net.ipv6.conf.all.forwarding=1",
        ]
        lead += serverLines(plan)
        var out = wrap(
            body, hook: "forward", options: options, generator: generator, inputs: plan.inputs, warnings: plan.warnings,
            lead: lead, policy: policyNote(options.policy, hook: "forward"))
        if !plan.translations.isEmpty {
            out += "\n" + natTable(plan, options: options)
        }
        return out
    }

    /// `fe01.contoso.com (front-end) 10.1.1.11, 2001:db8:1::11` per destination, for headers.
    static func serverLines(_ plan: ForwardPlan) -> [String] {
        plan.destinations.enumerated().map { index, destination in
            let side = destination.side.map { " \($0)" } ?? ""
            let text =
                "\(destination.server)\(side) (\(destination.roles.map(\.rawValue).joined(separator: ", "))): "
                + destination.addresses.map(\.description).joined(separator: ", ")
            return (index == 0 ? "Servers:   " : "           ") + Comment.sanitize(text, maximumLength: 200)
        }
    }

    /// DNAT of each public address to its server's, and SNAT of what that address starts towards
    /// the internet zones' interfaces: the same public and private pair both ways.
    static func natTable(_ plan: ForwardPlan, options: RuleOptions) -> String {
        let table = String(options.table.prefix(27)) + "_nat"
        var out =
            "# Address translation (replaced as a whole by loading again; roll back: nft delete table ip \(table)).\n"
        out += "# Its priorities (-110, 90) run before the usual NAT priorities (dstnat -100, srcnat 100), so a\n"
        out += "# masquerade of your own does not give the translated servers another public address.\n"
        out += "table ip \(table)\ndelete table ip \(table)\n\n"
        out += "table ip \(table) {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority -110; policy accept;\n"
        for translation in plan.translations {
            out += "\t\tip daddr \(translation.publicAddress) dnat to \(translation.address) "
            out += "comment \"\(Comment.sanitize(translation.server))\"\n"
        }
        out += "\t}\n\n\tchain postrouting {\n\t\ttype nat hook postrouting priority 90; policy accept;\n"
        for translation in plan.translations where !translation.outInterfaces.isEmpty {
            let interfaces = translation.outInterfaces.map { "\"\($0)\"" }.joined(separator: ", ")
            out += "\t\tip saddr \(translation.address) oifname { \(interfaces) } snat to \(translation.publicAddress) "
            out += "comment \"\(Comment.sanitize(translation.server))\"\n"
        }
        out += "\t}\n}\n"
        return out
    }

    /// A set of ports with the evidence of each as its element comment.
    static func portSet(_ name: String, _ elements: [ChainPlan.Element], options: RuleOptions) -> NFTBody.NamedSet {
        // Without a base chain the set outlives reloads, so its flags must not depend on its contents.
        let interval = !options.baseChain || elements.contains { $0.range.count > 1 }
        return .init(
            name: name, type: "inet_service", interval: interval,
            elements: elements.map { "\($0.range) comment \"\($0.comment)\"" }, multiline: true)
    }

    /// `iifname { "eth0" } ip saddr { 10.1.0.0/16 } `: who a peer is, per family when it has addresses.
    static func peerMatches(_ peer: ForwardPlan.Peer, inbound: Bool) -> [String] {
        let interfaces =
            peer.interfaces.isEmpty
            ? ""
            : "\(inbound ? "iifname" : "oifname") { \(peer.interfaces.map { "\"\($0)\"" }.joined(separator: ", ")) } "
        guard !peer.prefixes.isEmpty else { return [interfaces] }
        var matches: [String] = []
        for (family, keyword) in [(SourcePrefix.Family.ipv4, "ip"), (.ipv6, "ip6")] {
            guard let prefixes = peer.prefixes(family), !prefixes.isEmpty else { continue }
            let list = prefixes.map(\.description).joined(separator: ", ")
            matches.append("\(interfaces)\(keyword) \(inbound ? "saddr" : "daddr") { \(list) } ")
        }
        return matches
    }

    /// One rule per family for a port open only to some addresses (and, with a peer, only those
    /// of them inside the peer's networks).
    static func scopedRules(
        _ element: ChainPlan.Element, peer: ForwardPlan.Peer?, inbound: Bool, counter: String
    ) -> [String] {
        var rules: [String] = []
        for (family, match) in [(SourcePrefix.Family.ipv4, "ip"), (.ipv6, "ip6")] {
            guard let (from, to) = element.matches(family),
                let remote = ScopedAddresses.remote(from, peer: peer, family: family)
            else { continue }
            var line = ""
            if let peer, !peer.interfaces.isEmpty {
                line +=
                    "\(inbound ? "iifname" : "oifname") { \(peer.interfaces.map { "\"\($0)\"" }.joined(separator: ", ")) } "
            }
            let (remoteField, localField) = inbound ? ("saddr", "daddr") : ("daddr", "saddr")
            if !remote.isEmpty {
                line += "\(match) \(remoteField) { \(remote.map(\.description).joined(separator: ", ")) } "
            }
            if !to.isEmpty { line += "\(match) \(localField) { \(to.map(\.description).joined(separator: ", ")) } " }
            line +=
                "\(element.transport.rawValue) dport \(element.range) \(counter)accept comment \"\(element.comment)\""
            rules.append(line)
        }
        return rules
    }

    /// The file: header, then the body in a table of its own with a base chain, or added to the
    /// operator's table with a dispatch chain their chain jumps to.
    static func wrap(
        _ body: NFTBody, hook: String, options: RuleOptions, generator: Generator, inputs: [String],
        warnings: [String], lead: [String], policy: String
    ) -> String {
        let table = options.table
        let dispatch = "ocslog_" + hook
        var out = "#!/usr/sbin/nft -f\n"
        var moreElements = ""
        func elements(_ set: NFTBody.NamedSet, _ chunk: ArraySlice<String>) -> String {
            set.multiline
                ? chunk.map { "\t\t\t\($0)" }.joined(separator: ",\n") : chunk.joined(separator: ", ")
        }
        func chunks(_ set: NFTBody.NamedSet) -> [ArraySlice<String>] {
            stride(from: 0, to: set.elements.count, by: setChunk).map {
                set.elements[$0..<min($0 + setChunk, set.elements.count)]
            }
        }
        if options.baseChain {
            out += NFTWriter.header(
                inputs: inputs, warnings: warnings, generator: generator, lead: lead,
                instructions: [
                    "Check:     nft -c -f FILE   (without root: unshare -rn nft -c -f FILE)",
                    "Load:      nft -f FILE      (one transaction; loading again replaces table inet \(table))",
                    "Roll back: nft delete table inet \(table)",
                    "Form:      a table of its own with a base chain on the \(hook) hook. \(formNote(options.policy))",
                ], policy: policy)
            out += "\n"
            // Declaring the table first makes the delete valid when it does not exist yet.
            out += "table inet \(table)\ndelete table inet \(table)\n\n"
            out += "table inet \(table) {\n"
            for set in body.sets {
                out += "\tset \(set.name) {\n\t\ttype \(set.type)\n"
                if set.interval { out += "\t\tflags interval\n" }
                let parts = chunks(set)
                if set.multiline {
                    out += "\t\telements = {\n" + elements(set, parts[0]) + "\n\t\t}\n\t}\n\n"
                } else {
                    out += "\t\telements = { \(elements(set, parts[0])) }\n\t}\n\n"
                }
                for chunk in parts.dropFirst() {
                    moreElements += "add element inet \(table) \(set.name) {\n\(elements(set, chunk))\n}\n"
                }
            }
            for chain in body.chains {
                out += "\tchain \(chain.name) {\n" + chain.rules.map { "\t\t\($0)\n" }.joined() + "\t}\n\n"
            }
            out += "\tchain \(hook) {\n"
            out += "\t\ttype filter hook \(hook) priority \(options.priority); policy \(options.policy.rawValue);\n"
            out += (body.preamble + body.dispatch).map { "\t\t\($0)\n" }.joined()
            out += "\t}\n}\n"
            if !moreElements.isEmpty { out += "\n" + moreElements }
            return out
        }
        out += NFTWriter.header(
            inputs: inputs, warnings: warnings, generator: generator, lead: lead,
            instructions: [
                "Check:     nft -c -f FILE   (with your own ruleset loaded: it adds to table inet \(table))",
                "Load:      nft -f FILE      (one transaction; loading again empties and refills the ocslog_* chains and sets)",
                "Hook once: nft add rule inet \(table) \(hook) jump \(dispatch)   (or put 'jump \(dispatch)' in your own",
                "           \(hook) chain of table inet \(table), where its accepts should apply)",
                "Roll back: nft delete rule inet \(table) \(hook) handle N   (the jump; nft -a list chain inet \(table) \(hook))",
                "Form:      no base chain: your own \(hook) chain and its policy decide; this file only accepts.",
            ], policy: nil)
        out += "\n"
        out += "add table inet \(table)\n"
        for name in [dispatch] + body.chains.map(\.name) {
            out += "add chain inet \(table) \(name)\nflush chain inet \(table) \(name)\n"
        }
        for set in body.sets {
            out += "add set inet \(table) \(set.name) { type \(set.type);\(set.interval ? " flags interval;" : "") }\n"
            out += "flush set inet \(table) \(set.name)\n"
        }
        for set in body.sets {
            for chunk in chunks(set) {
                let list = set.multiline ? "\n" + elements(set, chunk) + "\n" : " " + elements(set, chunk) + " "
                out += "add element inet \(table) \(set.name) {\(list)}\n"
            }
        }
        out += "\ntable inet \(table) {\n"
        for chain in body.chains {
            out += "\tchain \(chain.name) {\n" + chain.rules.map { "\t\t\($0)\n" }.joined() + "\t}\n\n"
        }
        out += "\tchain \(dispatch) {\n" + (body.preamble + body.dispatch).map { "\t\t\($0)\n" }.joined() + "\t}\n}\n"
        return out
    }

    /// What the form means next to the operator's own ruleset.
    static func formNote(_ policy: ChainPolicy) -> String {
        switch policy {
        case .drop: "It is the whole filter on that hook: other tables' base chains must not drop what it accepts."
        case .accept:
            "Its accepts do not override a drop in another table's base chain on the same hook: next to your own ruleset use --no-base-chain."
        }
    }

    /// The `#` comment header every ruleset shares: who made it, from which inputs, how to use it.
    /// Notes wrap instead of being cut.
    static func header(
        inputs: [String], warnings: [String], generator: Generator, lead: [String], instructions: [String],
        policy: String?
    ) -> String {
        var lines = ["Generated by \(generator.name) \(generator.version) from the firewall exceptions in:"]
        lines += inputs.map { "  \($0)" }
        for line in lead + instructions {
            // A long line of prose wraps under its label ("Form:      …"); commands stay whole.
            guard line.count > 100, line.hasPrefix("Form:") || line.hasPrefix("For:") else {
                lines.append(line)
                continue
            }
            let label = String(line.prefix(11))
            let parts = wrap(String(line.dropFirst(11)), width: 89)
            lines += parts.enumerated().map {
                ($0.offset == 0 ? label : String(repeating: " ", count: 11)) + $0.element
            }
        }
        if let policy { lines.append("Policy:    \(policy)") }
        for warning in warnings {
            // A `#` line ends only at a line break: printable ASCII is safe in it.
            let printable = String(
                String.UnicodeScalarView(
                    warning.unicodeScalars.prefix(2000).map {
                        $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? $0 : " "
                    }))
            let wrapped = wrap(printable, width: 88)
            lines += wrapped.enumerated().map { ($0.offset == 0 ? "Note:      " : "           ") + $0.element }
        }
        return lines.map { "# \($0)\n" }.joined()
    }

    /// Words in lines of at most `width` characters (a longer word stays whole).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    static func policyNote(_ policy: ChainPolicy, hook: String = "input") -> String {
        switch (policy, hook) {
        case (.accept, _):
            "accept: this chain only accepts the listed traffic; everything else is left to your own ruleset"
        case (.drop, "forward"):
            "drop: traffic through this firewall not listed here is dropped (replies and their ICMP errors are accepted)"
        case (.drop, _):
            "drop: traffic not listed here is dropped (established traffic, loopback and ICMP errors and IPv6 neighbour discovery are accepted)"
        }
    }
}

/// The remote addresses of a scoped rule inside a peer's addresses.
enum ScopedAddresses {
    /// The element's remote addresses of one family, narrowed to the peer's prefixes; empty:
    /// anyone (neither restricts); nil: none left (the rule can match nobody).
    static func remote(_ from: [SourcePrefix], peer: ForwardPlan.Peer?, family: SourcePrefix.Family) -> [SourcePrefix]?
    {
        guard let peer else { return from }
        guard let own = peer.prefixes(family) else { return nil }
        if own.isEmpty { return from }
        if from.isEmpty { return own }
        let narrowed = Set(from.flatMap { address in own.compactMap { address.intersection($0) } }).sorted()
        return narrowed.isEmpty ? nil : narrowed
    }
}
