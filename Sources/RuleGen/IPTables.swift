import Foundation
import Knowledge
import ScanModel

/// iptables-restore / ip6tables-restore input: one chain per role (or per server and Edge side
/// with a topology), `-m comment` provenance, multiport where it fits. The operator hooks the
/// entry chain once; restoring again with `--noflush` replaces the chains' rules.
public enum IPTablesWriter {
    public enum Family: Sendable { case ipv4, ipv6 }

    /// Ports per multiport rule (iptables counts a range as two).
    static let multiportLimit = 15
    /// The longest chain name iptables takes.
    static let chainNameLimit = 28
    static let prefix = "OCSLOG-"

    /// `file.html` of `file.html:27`; the whole comment when it is not `file:line`.
    static func evidenceFile(_ comment: String) -> String {
        guard let colon = comment.lastIndex(of: ":"), comment[comment.index(after: colon)...].allSatisfy(\.isNumber)
        else {
            return comment
        }
        return String(comment[..<colon])
    }

    /// `file.html:22,23,24` for elements from one file.
    static func batchComment(_ batch: [ChainPlan.Element]) -> String {
        guard batch.count > 1 else { return batch[0].comment }
        let lines = batch.map {
            String($0.comment[($0.comment.lastIndex(of: ":").map { $0 } ?? $0.comment.endIndex)...].dropFirst())
        }
        return Comment.sanitize(evidenceFile(batch[0].comment) + ":" + lines.joined(separator: ","))
    }

    /// `-A CHAIN MATCH-p tcp -m tcp --dport …` rules for a chain's open ports: multiport batches
    /// of at most ``multiportLimit`` ports, one evidence file per batch.
    static func portRules(_ chain: String, match: String, _ elements: [ChainPlan.Element]) -> String {
        var out = ""
        for transport in TransportProtocol.allCases {
            var batch: [ChainPlan.Element] = []
            var weight = 0
            func flush() {
                guard !batch.isEmpty else { return }
                let ports = batch.map { IPTablesWriter.ports($0.range) }
                let portMatch =
                    batch.count == 1 ? "--dport \(ports[0])" : "-m multiport --dports \(ports.joined(separator: ","))"
                out += "-A \(chain) \(match)-p \(transport.rawValue) -m \(transport.rawValue) \(portMatch) "
                out += "-m comment --comment \"\(batchComment(batch))\" -j ACCEPT\n"
                batch.removeAll()
                weight = 0
            }
            for element in elements where element.transport == transport {
                let cost = element.range.count == 1 ? 1 : 2
                // One multiport rule per evidence file, so each rule still names where it came from.
                if weight + cost > multiportLimit
                    || (batch.last.map { evidenceFile($0.comment) != evidenceFile(element.comment) } ?? false)
                {
                    flush()
                }
                batch.append(element)
                weight += cost
            }
            flush()
        }
        return out
    }

    static func ports(_ range: PortRange) -> String {
        range.text(separator: ":")
    }

    /// One rule per remote and local address of a port open only to some addresses.
    static func scopedRules(
        _ chain: String, match: String, _ element: ChainPlan.Element, remote: [SourcePrefix], local: [SourcePrefix],
        inbound: Bool
    ) -> String {
        var out = ""
        let (remoteFlag, localFlag) = inbound ? ("-s", "-d") : ("-d", "-s")
        for source in remote.isEmpty ? [nil] : remote.map(Optional.some) {
            for destination in local.isEmpty ? [nil] : local.map(Optional.some) {
                var line = "-A \(chain) \(match)"
                if let source { line += "\(remoteFlag) \(source) " }
                if let destination { line += "\(localFlag) \(destination) " }
                line += "-p \(element.transport.rawValue) -m \(element.transport.rawValue) "
                line += "--dport \(ports(element.range)) -m comment --comment \"\(element.comment)\" -j ACCEPT\n"
                out += line
            }
        }
        return out
    }

    /// The host ruleset: the operator jumps to OCSLOG-INPUT from INPUT.
    public static func render(_ plan: RulePlan, family: Family, options: RuleOptions, generator: Generator) -> String {
        let tool = family == .ipv4 ? "iptables" : "ip6tables"
        func chainName(_ chain: ChainPlan) -> String {
            prefix
                + chain.name.uppercased().replacingOccurrences(of: "_", with: "-").prefix(chainNameLimit - prefix.count)
        }
        let input = prefix + "INPUT"
        var out = NFTWriter.header(
            inputs: plan.inputs, warnings: plan.warnings, generator: generator,
            lead: [
                "For:       a Linux host that itself serves these ports (INPUT). For the firewall in front of",
                "           the OCS servers (they run Windows), write forward rules with --topology FILE.",
            ],
            instructions: [
                "Check:     \(tool)-restore --test < FILE",
                "Load:      \(tool)-restore --noflush < FILE   (loading again replaces the \(prefix)* chains' rules)",
                "Hook once: \(tool) -C INPUT -j \(input) 2>/dev/null || \(tool) -I INPUT -j \(input)",
                "Roll back: \(tool) -D INPUT -j \(input); then flush (-F) and delete (-X) the \(prefix)* chains",
            ], policy: NFTWriter.policyNote(options.policy))
        out += "*filter\n"
        out += ":\(input) - [0:0]\n"
        for chain in plan.chains { out += ":\(chainName(chain)) - [0:0]\n" }
        let ownFamily: SourcePrefix.Family = family == .ipv4 ? .ipv4 : .ipv6
        for chain in plan.chains {
            out += portRules(chainName(chain), match: "", chain.elements)
            // Ports a firewall rule allows only from some addresses: one rule per address of this family.
            for element in chain.scoped {
                guard let (from, to) = element.matches(ownFamily) else { continue }
                out += scopedRules(chainName(chain), match: "", element, remote: from, local: to, inbound: true)
            }
        }
        if options.policy == .drop {
            out += "-A \(input) -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n-A \(input) -i lo -j ACCEPT\n"
            // Neighbour discovery and error reports (IPv6 stops working without them).
            out += family == .ipv4 ? "-A \(input) -p icmp -j ACCEPT\n" : "-A \(input) -p ipv6-icmp -j ACCEPT\n"
        }
        let sources = options.sources.filter { $0.family == ownFamily }.sorted()
        let sourceMatches = options.sources.isEmpty ? [""] : sources.map { "-s \($0) " }
        for chain in plan.chains {
            let interface = chain.interface.flatMap { options.interfaces[$0] }.map { "-i \($0) " } ?? ""
            for source in sourceMatches { out += "-A \(input) \(interface)\(source)-j \(chainName(chain))\n" }
        }
        if options.policy == .drop { out += "-A \(input) -j DROP\n" }
        out += "COMMIT\n"
        return out
    }

    /// Chain names for a topology's destinations: `OCSLOG-FE01-CONTOSO-COM`, `…-O` for the
    /// traffic they start; cut to fit iptables' 28 characters, numbered where cutting collides.
    static func chainNames(_ plan: ForwardPlan) -> [String: String] {
        var names: [String: String] = [:]
        var used = Set<String>()
        let room = chainNameLimit - prefix.count - 2  // "-O" for the outbound chain
        for destination in plan.destinations {
            let base = destination.name.uppercased().replacingOccurrences(of: "_", with: "-")
            var name = String(base.prefix(room))
            var number = 2
            while used.contains(name) {
                let suffix = "-\(number)"
                name = String(base.prefix(room - suffix.count)) + suffix
                number += 1
            }
            used.insert(name)
            names[destination.name] = prefix + name
        }
        return names
    }

    /// The firewall in front of the servers: OCSLOG-FORWARD jumps by address to a chain per
    /// server (and Edge side); the IPv4 file also translates public addresses (`*nat`).
    public static func render(_ plan: ForwardPlan, family: Family, options: RuleOptions, generator: Generator) -> String
    {
        let tool = family == .ipv4 ? "iptables" : "ip6tables"
        let ownFamily: SourcePrefix.Family = family == .ipv4 ? .ipv4 : .ipv6
        let forward = prefix + "FORWARD"
        let names = chainNames(plan)
        let translate = family == .ipv4 && !plan.translations.isEmpty
        var instructions = [
            "Check:     \(tool)-restore --test < FILE",
            "Load:      \(tool)-restore --noflush < FILE   (loading again replaces the \(prefix)* chains' rules)",
            "Hook once: \(tool) -C FORWARD -j \(forward) 2>/dev/null || \(tool) -I FORWARD -j \(forward)",
        ]
        if translate {
            for (hook, chain) in [("PREROUTING", prefix + "PREROUTING"), ("POSTROUTING", prefix + "POSTROUTING")] {
                instructions.append(
                    "           \(tool) -t nat -C \(hook) -j \(chain) 2>/dev/null || \(tool) -t nat -I \(hook) -j \(chain)"
                )
            }
        }
        instructions.append(
            "Roll back: \(tool) -D FORWARD -j \(forward)\(translate ? " (and the nat jumps)" : ""); then flush (-F) and delete (-X) the \(prefix)* chains"
        )
        instructions.append(
            options.policy == .drop
                ? "Form:      a jump chain that ends in DROP: it decides for all forwarded traffic it sees."
                : "Form:      a jump chain that only accepts: what it does not accept goes on through your FORWARD chain."
        )
        var lead = [
            "Topology:  \(plan.topology)",
            "For:       a Linux firewall in front of the OCS servers (FORWARD): it filters the traffic it routes",
            "           to and from their addresses. Requires forwarding: sysctl -w net.ipv4.ip_forward=1",
            "           net.ipv6.conf.all.forwarding=1",
        ]
        lead += NFTWriter.serverLines(plan)
        var out = NFTWriter.header(
            inputs: plan.inputs, warnings: plan.warnings, generator: generator, lead: lead, instructions: instructions,
            policy: NFTWriter.policyNote(options.policy, hook: "forward"))
        out += "*filter\n:\(forward) - [0:0]\n"
        var body = ""
        var dispatch = "-A \(forward) -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
        // Replies, and the ICMP errors about them (related), pass; no other ICMP is forwarded.
        for destination in plan.destinations {
            let addresses = destination.addresses(ownFamily).sorted()
            guard !addresses.isEmpty, let chain = names[destination.name] else { continue }
            for (groups, inbound) in [(destination.inbound, true), (destination.outbound, false)] where !groups.isEmpty
            {
                let name = inbound ? chain : chain + "-O"
                out += ":\(name) - [0:0]\n"
                for address in addresses {
                    dispatch += "-A \(forward) \(inbound ? "-d" : "-s") \(address) -j \(name)\n"
                }
                for group in groups {
                    for match in peerMatches(group.peer, family: ownFamily, inbound: inbound) {
                        body += portRules(name, match: match, group.elements)
                    }
                    for element in group.scoped {
                        guard let (from, to) = element.matches(ownFamily),
                            let remote = ScopedAddresses.remote(from, peer: group.peer, family: ownFamily)
                        else { continue }
                        let interfaces =
                            group.peer.interfaces.isEmpty
                            ? [""] : group.peer.interfaces.map { "\(inbound ? "-i" : "-o") \($0) " }
                        for interface in interfaces {
                            body += scopedRules(
                                name, match: interface, element, remote: remote, local: to, inbound: inbound)
                        }
                    }
                }
            }
        }
        if options.policy == .drop { dispatch += "-A \(forward) -j DROP\n" }
        out += body + dispatch + "COMMIT\n"
        if translate {
            let (pre, post) = (prefix + "PREROUTING", prefix + "POSTROUTING")
            out += "*nat\n:\(pre) - [0:0]\n:\(post) - [0:0]\n"
            for translation in plan.translations {
                out +=
                    "-A \(pre) -d \(translation.publicAddress) -m comment --comment \"\(Comment.sanitize(translation.server))\" "
                out += "-j DNAT --to-destination \(translation.address)\n"
            }
            for translation in plan.translations {
                for interface in translation.outInterfaces {
                    out += "-A \(post) -s \(translation.address) -o \(interface) "
                    out += "-m comment --comment \"\(Comment.sanitize(translation.server))\" "
                    out += "-j SNAT --to-source \(translation.publicAddress)\n"
                }
            }
            out += "COMMIT\n"
        }
        return out
    }

    /// `-i eth0 -s 10.1.0.0/16 ` per interface and prefix of one family (none when the peer names
    /// only the other family's addresses).
    static func peerMatches(_ peer: ForwardPlan.Peer, family: SourcePrefix.Family, inbound: Bool) -> [String] {
        guard let prefixes = peer.prefixes(family) else { return [] }
        let interfaces = peer.interfaces.isEmpty ? [""] : peer.interfaces.map { "\(inbound ? "-i" : "-o") \($0) " }
        let addresses = prefixes.isEmpty ? [""] : prefixes.map { "\(inbound ? "-s" : "-d") \($0) " }
        return interfaces.flatMap { interface in addresses.map { interface + $0 } }
    }
}
