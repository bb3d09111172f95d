import ArgumentParser
import Foundation
import Knowledge
import LogParser
import RuleGen
import ScanModel
import SystemCalls

/// The options every ruleset shares, for `ocslog rules` and `ocslog scan --nft/--iptables/--ip6tables`.
struct RuleArguments: ParsableArguments {
    @Flag(help: "Also open the documented ports of each detected role that the logs did not show (marked as such).")
    var documented = false

    @Option(help: "Only this source may connect: an IPv4 or IPv6 address or CIDR (repeatable).")
    var source: [String] = []

    @Option(help: "The Edge's interfaces, as external=IF,internal=IF (e.g. external=eth0,internal=eth1).")
    var interface: String?

    @Option(
        help: ArgumentHelp(
            "Where the servers sit (YAML: zones and servers): rules for the Linux firewall in front of them.",
            discussion:
                "Without it the rules are for a Linux host that itself serves the ports (input hook). With it, nft and iptables output filters the traffic the firewall forwards to each server's addresses, from the zones the knowledge says use each port, with DNAT for nat: entries. See the README.",
            valueName: "file"))
    var topology: String?

    @Flag(
        help:
            "nftables: no base chain of its own; add the sets and chains to your table (--table, default filter) for one 'jump' line in your chain."
    )
    var noBaseChain = false

    @Option(help: "The nftables table name (default: ocslog; with --no-base-chain: filter, your own table).")
    var table: String?

    @Option(help: "The base chain's priority (nftables).")
    var chainPriority: Int = 0

    @Option(
        help:
            "The base chain's policy: accept only what is listed and leave the rest to your ruleset, or drop the rest."
    )
    var policy: ChainPolicy = .accept

    @Flag(help: "Count packets per rule (nftables).")
    var counters = false

    @Flag(
        help:
            "Also open the ports of firewall rules that are not OCS's (Windows' own, other products'), from firewall records."
    )
    var allFirewallRules = false

    /// The topology file, read and checked (nil without --topology); an error names the file and
    /// line and exits 2.
    func readTopology(knowledge: KnowledgeBase) throws -> Topology? {
        guard let topology else { return nil }
        let text: String
        do {
            text = String(decoding: try OS.readFile(topology), as: UTF8.self)
        } catch {
            printError("ocslog: \(topology): cannot read the topology file (\(error))")
            throw ExitStatus.inputError
        }
        do {
            return try Topology.parse(text, file: topology, roles: Set(knowledge.roles.map(\.id)))
        } catch {
            printError("ocslog: \(error)")
            throw ExitStatus.inputError
        }
    }

    /// The validated options, or a usage error naming what is wrong.
    func options(roles: [RoleID], topology parsed: Topology? = nil) throws -> RuleOptions {
        var options = RuleOptions()
        options.roles = roles
        options.documented = documented
        for text in source {
            guard let prefix = SourcePrefix(text) else {
                throw ValidationError("--source '\(text)' is not an IPv4 or IPv6 address or CIDR")
            }
            options.sources.append(prefix)
        }
        if let interface {
            for pair in interface.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else {
                    throw ValidationError("--interface wants external=IF,internal=IF, not '\(pair)'")
                }
                guard let side = EdgeInterface(rawValue: parts[0]) else {
                    throw ValidationError("--interface: side '\(parts[0])' must be external or internal")
                }
                options.interfaces[side] = parts[1]
            }
        }
        options.baseChain = !noBaseChain
        options.table = table ?? (noBaseChain ? "filter" : "ocslog")
        if noBaseChain && policy != .accept {
            throw ValidationError(
                "--policy applies to a base chain; with --no-base-chain your own chain's policy decides")
        }
        options.priority = chainPriority
        options.policy = policy
        options.counters = counters
        options.allFirewallRules = allFirewallRules
        options.topology = parsed
        do {
            try options.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return options
    }
}

struct Rules: ParsableCommand, TerminalConfigurable {
    static let configuration = CommandConfiguration(
        abstract:
            "Write firewall rules for what the logs opened: nftables, iptables, ip6tables, firewalld, ufw, or Windows Firewall scripts.",
        discussion: """
            Reads the logs like `ocslog scan` (standard input when no path) and writes a ruleset \
            that accepts, per server role, the ports setup opened, each with its evidence (file:line) \
            as a comment. Nothing from a log reaches the ruleset except validated ports, protocols and \
            sanitized comments. With -o, the file is written under a temporary name and renamed.

            Without --topology, nft and iptables rules are for a Linux host that itself serves those \
            ports (the input hook). The OCS servers run Windows: for the Linux firewall in front of \
            them, --topology FILE (zones and servers' addresses, YAML) writes forward rules per server \
            address, from the zones that use each port, with DNAT for its nat: entries. \
            --no-base-chain adds the rules to your own nftables table for one jump line instead of \
            a table with a base chain of its own (whose accepts cannot override your own drop).

            Examples:
              ocslog rules logs/ --target nft -o ocslog.nft && nft -c -f ocslog.nft
              cat *.log | ocslog rules --target iptables --source 192.0.2.0/24 > rules.v4
              ocslog rules edge-logs/ --interface external=eth0,internal=eth1 --documented
              ocslog rules logs/ --topology site.yaml --policy drop -o fw.nft   (the firewall in front)
              ocslog rules logs/ --topology site.yaml --no-base-chain -o ocslog.nft   (into table inet filter)
              ocslog rules logs/ --target firewalld -o /tmp/services   (a folder: one XML per role)
              ocslog rules fe01-logs/ --target powershell -o ocslog-rules.ps1   (run on the server itself)
              ocslog rules fe01-logs/ --target netsh -o ocslog-rules.cmd        (Windows Server 2008 / R2)

            powershell (New-NetFirewallRule, Windows Server 2012 and later) and netsh (netsh \
            advfirewall, Windows Server 2008 and 2008 R2) write one script for the servers \
            themselves: rules grouped per role ("ocslog front-end"), named after their service, \
            with the evidence in the description and the program path when the log gave one; \
            running the script again replaces the rules instead of duplicating them. A role whose \
            activation added no exception because Windows Firewall was stopped gets its documented \
            ports, and a Back End gets the SQL Server ports activation never opens.
            """)

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case nft, iptables, ip6tables, firewalld, ufw, powershell, netsh
    }

    @Argument(help: "Log files or folders; standard input when none (or `-`).")
    var paths: [String] = []

    @Option(help: "nft, iptables, ip6tables, firewalld, ufw, powershell or netsh.")
    var target: Target = .nft

    @Option(name: [.short, .long], help: "Write to this file (a folder for firewalld) instead of standard output.")
    var output: String?

    @Option(name: .customLong("role"), help: "Only this role's rules (repeatable).")
    var roles: [RoleID] = []

    @OptionGroup var rules: RuleArguments

    @Option(help: "A folder of YAML files that add to or replace the built-in knowledge.")
    var knowledge: String?

    @OptionGroup(title: "Reading") var reading: ReadingOptions

    @OptionGroup(title: "Terminal") var terminal: TerminalOptions

    func run() throws {
        let knowledgeBase = try CommandSupport.knowledge(from: knowledge, checking: roles)
        let topology = try rules.readTopology(knowledge: knowledgeBase)
        if topology != nil && ![.nft, .iptables, .ip6tables].contains(target) {
            throw ValidationError(
                "--topology applies to --target nft, iptables and ip6tables (a firewall in front of the servers)")
        }
        let options = try rules.options(roles: roles, topology: topology)
        let (inputs, pathErrors) = CommandSupport.inputs(paths)
        let analyzer = Analyzer(knowledge: knowledgeBase, options: AnalysisOptions(server: reading.server))
        let failed = CommandSupport.analyze(inputs, with: analyzer, jobs: reading.jobs) || !pathErrors.isEmpty
        let result = analyzer.result()
        let generator = Generator(version: OCSLog.version)
        if let script = windowsScript(result, knowledge: knowledgeBase, documented: options.documented, generator) {
            try emit(script)
            if failed { throw ExitStatus.inputError }
            return
        }
        let rulesets = Rulesets(result, knowledge: knowledgeBase, options: options, generator: generator)
        let plan = rulesets.plan
        switch target {
        case .nft: try emit(rulesets.nft)
        case .iptables: try emit(rulesets.iptables(.ipv4))
        case .ip6tables: try emit(rulesets.iptables(.ipv6))
        case .ufw: try emit(UFWWriter.render(plan, generator: generator))
        case .powershell, .netsh: break  // written above
        case .firewalld:
            let files = FirewalldWriter.render(plan, generator: generator)
            if let output {
                // A folder: one service file each (a file of that name in the way is an error).
                try AtomicFile.folder(output)
                for (name, text) in files {
                    try AtomicFile.write(text, to: (output as NSString).appendingPathComponent(name))
                }
            } else {
                try emit(files.map { "<!-- file: \($0.0) -->\n\($0.1)" }.joined(separator: "\n"))
            }
        }
        if failed { throw ExitStatus.inputError }
    }

    /// The PowerShell or netsh script, for those targets (nil for the Linux ones).
    private func windowsScript(
        _ result: ScanResult, knowledge: KnowledgeBase, documented: Bool, _ generator: Generator
    ) -> String? {
        guard target == .powershell || target == .netsh else { return nil }
        let plan = WindowsPlan.build(from: result, knowledge: knowledge, roles: roles, documented: documented)
        for note in plan.notes { printError("ocslog: note: \(note)") }
        return target == .powershell
            ? PowerShellWriter.render(plan, generator: generator) : NetshWriter.render(plan, generator: generator)
    }

    private func emit(_ text: String) throws {
        try CommandSupport.write(text, to: output)
    }
}

/// The Linux rulesets of one scan: for a host (input hook), or with a topology for the firewall
/// in front of the servers (forward hook). Notes go to standard error once, when built.
struct Rulesets {
    let plan: RulePlan
    let forward: ForwardPlan?
    let options: RuleOptions
    let generator: Generator

    init(_ result: ScanResult, knowledge: KnowledgeBase, options: RuleOptions, generator: Generator) {
        self.options = options
        self.generator = generator
        plan = RulePlan.build(from: result, knowledge: knowledge, options: options)
        if let topology = options.topology {
            let forward = ForwardPlan.build(from: result, knowledge: knowledge, options: options, topology: topology)
            self.forward = forward
            for warning in forward.warnings { printError("ocslog: note: \(warning)") }
        } else {
            forward = nil
            for warning in plan.warnings { printError("ocslog: note: \(warning)") }
            let servers = Self.serverCount(result)
            if servers > 1 {
                printError(
                    "ocslog: note: these logs are of \(servers) servers; this ruleset is for one Linux host that serves "
                        + "all their ports itself. For the firewall in front of them, describe where they sit with --topology FILE"
                )
            }
        }
    }

    /// How many servers the logs are of: the computers they name, and an Edge beside other roles.
    static func serverCount(_ result: ScanResult) -> Int {
        let named = Set(result.inputs.compactMap { $0.server?.lowercased() }).count
        let roles = Set(result.inputs.filter { $0.server == nil }.map(\.role)).subtracting(["unknown"])
        let unnamed = roles.isEmpty ? 0 : (roles.contains("edge") && roles.count > 1 ? 2 : 1)
        return named + unnamed
    }

    var nft: String {
        if let forward { return NFTWriter.render(forward, options: options, generator: generator) }
        return NFTWriter.render(plan, options: options, generator: generator)
    }

    func iptables(_ family: IPTablesWriter.Family) -> String {
        if let forward { return IPTablesWriter.render(forward, family: family, options: options, generator: generator) }
        return IPTablesWriter.render(plan, family: family, options: options, generator: generator)
    }
}
