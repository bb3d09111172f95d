import Knowledge

/// Who made a ruleset: printed in every file's header.
public struct Generator: Sendable {
    public var name = "ocslog"
    public var version: String

    public init(version: String) { self.version = version }
}

/// The nftables ruleset: one `table inet` that re-loading replaces, named sets declared before
/// the chains, one chain per role (and per Edge interface) jumped to from one base chain.
public enum NFTWriter {
    public static func render(_ plan: RulePlan, options: RuleOptions, generator: Generator) -> String {
        let table = options.table
        var out = "#!/usr/sbin/nft -f\n"
        out += header(
            plan, options: options, generator: generator,
            instructions: [
                "Check:     nft -c -f FILE   (without root: unshare -rn nft -c -f FILE)",
                "Load:      nft -f FILE      (one transaction; loading again replaces table inet \(table))",
                "Roll back: nft delete table inet \(table)",
            ])
        out += "\n"
        // Declaring the table first makes the delete valid when it does not exist yet.
        out += "table inet \(table)\ndelete table inet \(table)\n\n"
        out += "table inet \(table) {\n"
        var moreElements = ""
        if !options.sources.isEmpty {
            for (family, name, type) in [
                (SourcePrefix.Family.ipv4, "sources_v4", "ipv4_addr"), (.ipv6, "sources_v6", "ipv6_addr"),
            ] {
                let prefixes = options.sources.filter { $0.family == family }.sorted()
                guard !prefixes.isEmpty else { continue }
                out += "\tset \(name) {\n\t\ttype \(type)\n\t\tflags interval\n"
                out += "\t\telements = { \(prefixes.map(\.description).joined(separator: ", ")) }\n\t}\n\n"
            }
        }
        for chain in plan.chains {
            for transport in TransportProtocol.allCases {
                let elements = chain.elements(of: transport)
                guard !elements.isEmpty else { continue }
                out += "\tset \(chain.name)_\(transport.rawValue) {\n\t\ttype inet_service\n"
                if elements.contains(where: { $0.range.count > 1 }) { out += "\t\tflags interval\n" }
                // A set's elements go in chunks: one netlink message cannot hold tens of thousands.
                let chunks = stride(from: 0, to: elements.count, by: setChunk).map {
                    elements[$0..<min($0 + setChunk, elements.count)]
                }
                func list(_ chunk: ArraySlice<ChainPlan.Element>) -> String {
                    chunk.map { "\t\t\t\($0.range) comment \"\($0.comment)\"" }.joined(separator: ",\n")
                }
                out += "\t\telements = {\n" + list(chunks[0]) + "\n\t\t}\n\t}\n\n"
                for chunk in chunks.dropFirst() {
                    moreElements +=
                        "add element inet \(table) \(chain.name)_\(transport.rawValue) {\n\(list(chunk))\n}\n"
                }
            }
        }
        let counter = options.counters ? "counter " : ""
        for chain in plan.chains {
            out += "\tchain \(chain.name) {\n"
            for transport in TransportProtocol.allCases where !chain.elements(of: transport).isEmpty {
                out += "\t\t\(transport.rawValue) dport @\(chain.name)_\(transport.rawValue) \(counter)accept\n"
            }
            // Ports a firewall rule allows only from some addresses: one rule per address family.
            for element in chain.scoped {
                for (family, match) in [(SourcePrefix.Family.ipv4, "ip"), (.ipv6, "ip6")] {
                    guard let (from, to) = element.matches(family) else { continue }
                    var line = "\t\t"
                    if !from.isEmpty {
                        line += "\(match) saddr { \(from.map(\.description).joined(separator: ", ")) } "
                    }
                    if !to.isEmpty { line += "\(match) daddr { \(to.map(\.description).joined(separator: ", ")) } " }
                    line +=
                        "\(element.transport.rawValue) dport \(element.range) \(counter)accept comment \"\(element.comment)\"\n"
                    out += line
                }
            }
            out += "\t}\n\n"
        }
        out += "\tchain input {\n"
        out += "\t\ttype filter hook input priority \(options.priority); policy \(options.policy.rawValue);\n"
        if options.policy == .drop {
            out += "\t\tct state established,related accept\n\t\tiif \"lo\" accept\n"
            // IPv6 stops working without neighbour discovery; path MTU and error reports must pass too.
            out += "\t\ticmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, "
            out += "nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept\n"
            out += "\t\ticmp type { destination-unreachable, time-exceeded, parameter-problem } accept\n"
        }
        var sourceMatches: [String] = []
        if options.sources.isEmpty {
            sourceMatches = [""]
        } else {
            if options.sources.contains(where: { $0.family == .ipv4 }) { sourceMatches.append("ip saddr @sources_v4 ") }
            if options.sources.contains(where: { $0.family == .ipv6 }) {
                sourceMatches.append("ip6 saddr @sources_v6 ")
            }
        }
        for chain in plan.chains {
            let interface = chain.interface.flatMap { options.interfaces[$0] }.map { "iifname \"\($0)\" " } ?? ""
            for source in sourceMatches {
                out += "\t\t\(interface)\(source)jump \(chain.name)\n"
            }
        }
        out += "\t}\n}\n"
        if !moreElements.isEmpty { out += "\n" + moreElements }
        return out
    }

    /// The most set elements written in one statement.
    static let setChunk = 500

    /// The `#` comment header both rulesets share: who made it, from which inputs, how to use it.
    static func header(_ plan: RulePlan, options: RuleOptions, generator: Generator, instructions: [String]) -> String {
        var lines = ["Generated by \(generator.name) \(generator.version) from the firewall exceptions in:"]
        lines += plan.inputs.map { "  \($0)" }
        lines += instructions
        lines.append("Policy:    \(policyNote(options.policy))")
        lines += plan.warnings.map { "Note:      \(Comment.sanitize($0))" }
        return lines.map { "# \($0)\n" }.joined()
    }

    static func policyNote(_ policy: ChainPolicy) -> String {
        switch policy {
        case .accept:
            "accept: this chain only accepts the listed traffic; everything else is left to your own ruleset"
        case .drop:
            "drop: traffic not listed here is dropped (established traffic, loopback and ICMP errors and IPv6 neighbour discovery are accepted)"
        }
    }
}

/// iptables-restore / ip6tables-restore input: one chain per role, `-m comment` provenance,
/// multiport where it fits. Restoring it again with `--noflush` replaces its chains' rules.
public enum IPTablesWriter {
    public enum Family: Sendable { case ipv4, ipv6 }

    /// Ports per multiport rule (iptables counts a range as two).
    static let multiportLimit = 15

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

    public static func render(_ plan: RulePlan, family: Family, options: RuleOptions, generator: Generator) -> String {
        let tool = family == .ipv4 ? "iptables" : "ip6tables"
        let prefix = "OCSLOG-"
        func chainName(_ chain: ChainPlan) -> String {
            prefix + chain.name.uppercased().replacingOccurrences(of: "_", with: "-").prefix(28 - prefix.count)
        }
        let input = prefix + "INPUT"
        var out = NFTWriter.header(
            plan, options: options, generator: generator,
            instructions: [
                "Check:     \(tool)-restore --test < FILE",
                "Load:      \(tool)-restore --noflush < FILE   (loading again replaces the \(prefix)* chains' rules)",
                "Hook once: \(tool) -C INPUT -j \(input) 2>/dev/null || \(tool) -I INPUT -j \(input)",
                "Roll back: \(tool) -D INPUT -j \(input); then flush (-F) and delete (-X) the \(prefix)* chains",
            ])
        out += "*filter\n"
        out += ":\(input) - [0:0]\n"
        for chain in plan.chains { out += ":\(chainName(chain)) - [0:0]\n" }
        for chain in plan.chains {
            for transport in TransportProtocol.allCases {
                let elements = chain.elements(of: transport)
                var batch: [ChainPlan.Element] = []
                var weight = 0
                func flush() {
                    guard !batch.isEmpty else { return }
                    let ports = batch.map {
                        $0.range.count == 1 ? "\($0.range.lowerBound)" : "\($0.range.lowerBound):\($0.range.upperBound)"
                    }
                    let match =
                        batch.count == 1
                        ? "--dport \(ports[0])" : "-m multiport --dports \(ports.joined(separator: ","))"
                    out += "-A \(chainName(chain)) -p \(transport.rawValue) -m \(transport.rawValue) \(match) "
                    out += "-m comment --comment \"\(batchComment(batch))\" -j ACCEPT\n"
                    batch.removeAll()
                    weight = 0
                }
                for element in elements {
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
            // Ports a firewall rule allows only from some addresses: one rule per address of this family.
            for element in chain.scoped {
                let ports =
                    element.range.count == 1
                    ? "\(element.range.lowerBound)" : "\(element.range.lowerBound):\(element.range.upperBound)"
                guard let (from, to) = element.matches(family == .ipv4 ? .ipv4 : .ipv6) else { continue }
                for source in from.isEmpty ? [nil] : from.map(Optional.some) {
                    for destination in to.isEmpty ? [nil] : to.map(Optional.some) {
                        var line = "-A \(chainName(chain)) "
                        if let source { line += "-s \(source) " }
                        if let destination { line += "-d \(destination) " }
                        line += "-p \(element.transport.rawValue) -m \(element.transport.rawValue) "
                        line += "--dport \(ports) -m comment --comment \"\(element.comment)\" -j ACCEPT\n"
                        out += line
                    }
                }
            }
        }
        if options.policy == .drop {
            out += "-A \(input) -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n-A \(input) -i lo -j ACCEPT\n"
            // Neighbour discovery and error reports (IPv6 stops working without them).
            out += family == .ipv4 ? "-A \(input) -p icmp -j ACCEPT\n" : "-A \(input) -p ipv6-icmp -j ACCEPT\n"
        }
        let sources = options.sources.filter { $0.family == (family == .ipv4 ? .ipv4 : .ipv6) }.sorted()
        let sourceMatches = options.sources.isEmpty ? [""] : sources.map { "-s \($0) " }
        for chain in plan.chains {
            let interface = chain.interface.flatMap { options.interfaces[$0] }.map { "-i \($0) " } ?? ""
            for source in sourceMatches { out += "-A \(input) \(interface)\(source)-j \(chainName(chain))\n" }
        }
        if options.policy == .drop { out += "-A \(input) -j DROP\n" }
        out += "COMMIT\n"
        return out
    }
}

/// firewalld service definitions, one per chain (role or Edge side).
public enum FirewalldWriter {
    /// File name → contents, e.g. `ocslog-front-end.xml`.
    public static func render(_ plan: RulePlan, generator: Generator) -> [(String, String)] {
        plan.chains.map { chain in
            let name = "ocslog-" + chain.name.replacingOccurrences(of: "_", with: "-")
            var out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
            out +=
                "<!-- Generated by \(generator.name) \(generator.version). Install: cp \(name).xml /etc/firewalld/services/; "
            out += "firewall-cmd --reload; firewall-cmd --permanent --add-service=\(name) -->\n"
            out += "<service>\n  <short>\(name)</short>\n"
            out +=
                "  <description>Ports that setup opened for the \(chain.role)\(chain.interface.map { " (\($0) interface)" } ?? "") role, found by ocslog.</description>\n"
            for element in chain.elements {
                let ports =
                    element.range.count == 1
                    ? "\(element.range.lowerBound)" : "\(element.range.lowerBound)-\(element.range.upperBound)"
                out +=
                    "  <!-- \(element.comment) -->\n  <port protocol=\"\(element.transport.rawValue)\" port=\"\(ports)\"/>\n"
            }
            out += "</service>\n"
            return (name + ".xml", out)
        }
    }
}

/// ufw application profiles, one section per chain, in one file for /etc/ufw/applications.d/.
public enum UFWWriter {
    public static func render(_ plan: RulePlan, generator: Generator) -> String {
        var out =
            "; Generated by \(generator.name) \(generator.version). Install: cp FILE /etc/ufw/applications.d/ocslog; "
        out += "ufw app update all; ufw allow \"ocslog-front-end\" (one per role)\n"
        for chain in plan.chains {
            let name = "ocslog-" + chain.name.replacingOccurrences(of: "_", with: "-")
            out += "\n[\(name)]\ntitle=\(chain.role)\(chain.interface.map { " \($0)" } ?? "") ports found by ocslog\n"
            out += "description=\(Comment.sanitize(chain.elements.map(\.comment).joined(separator: ", ")))\n"
            let ports = chain.elements.map { element in
                (element.range.count == 1
                    ? "\(element.range.lowerBound)" : "\(element.range.lowerBound):\(element.range.upperBound)")
                    + "/\(element.transport.rawValue)"
            }
            out += "ports=\(ports.joined(separator: "|"))\n"
        }
        return out
    }
}
