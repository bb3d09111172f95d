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

/// Scans, plans and runs system tools for the ruleset tests.
enum RuleFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let logs = root.appendingPathComponent("corpus/logs")
    static let golden = root.appendingPathComponent("Tests/RuleGenTests/Golden")
    static let probe = root.appendingPathComponent("Tests/RuleGenTests/netns-probe.sh").path
    /// The built-in knowledge (a load failure fails the test that reads it).
    static var knowledge: KnowledgeBase { get throws { try Fixtures.knowledge() } }
    static let generator = Generator(version: "test")
    static let isRoot = geteuid() == 0

    /// Scans folders of the corpus, with paths relative to the package root (stable golden files).
    static func scan(_ scenarios: [String]) throws -> ScanResult {
        let analyzer = Analyzer(knowledge: try knowledge)
        for scenario in scenarios {
            let (inputs, errors) = InputFile.expand([logs.appendingPathComponent(scenario).path])
            if let error = errors.first { throw error }
            for input in inputs { try analyzer.analyze(input) }
        }
        var result = analyzer.result()
        let prefix = root.path + "/"
        for index in result.inputs.indices {
            result.inputs[index].path = String(result.inputs[index].path.dropFirst(prefix.count))
        }
        for index in result.exceptions.indices {
            result.exceptions[index].evidence.path = String(
                result.exceptions[index].evidence.path.dropFirst(prefix.count))
        }
        return result
    }

    static let allScenarios = [
        "archiving", "back-end", "communicator-web-access", "director", "edge", "events", "firewall-stopped",
        "front-end",
        "kb974571", "localized", "mediation", "monitoring", "msi-failure", "prep-forest",
    ]

    /// Runs a command with a clean signal mask and default signal actions (test threads may block
    /// signals, and `timeout` and `kill` must work in the children); returns status and output.
    @discardableResult
    static func run(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ocslog-run-\(UUID().uuidString)"
        ).path
        let inputPath = try temporaryFile(input ?? "", name: "stdin")
        defer {
            unlink(outputPath)
            unlink(inputPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ["/usr/bin/env"] + arguments
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, cArguments, environ)
        guard spawned == 0 else { throw RuleError("cannot run \(arguments.joined(separator: " ")): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (exitStatus, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    static func temporaryFile(_ text: String, name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ocslog-\(UUID().uuidString)-\(name)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// `nft -c -f`: as root directly, otherwise in a user namespace of its own.
    static func checkNFT(_ text: String) throws -> (status: Int32, output: String) {
        let path = try temporaryFile(text, name: "rules.nft")
        defer { unlink(path) }
        return try run(
            isRoot
                ? ["timeout", "30", "nft", "-c", "-f", path]
                : ["timeout", "30", "unshare", "-rn", "nft", "-c", "-f", path])
    }

    static func checkIPTables(_ text: String, tool: String) throws -> (status: Int32, output: String) {
        try run(
            isRoot ? ["timeout", "30", tool, "--test"] : ["timeout", "30", "unshare", "-rn", tool, "--test"],
            input: text)
    }

    static func render(_ result: ScanResult, _ options: RuleOptions) throws -> (
        nft: String, v4: String, v6: String, ufw: String, firewalld: String
    ) {
        let plan = RulePlan.build(from: result, knowledge: try knowledge, options: options)
        return (
            NFTWriter.render(plan, options: options, generator: generator),
            IPTablesWriter.render(plan, family: .ipv4, options: options, generator: generator),
            IPTablesWriter.render(plan, family: .ipv6, options: options, generator: generator),
            UFWWriter.render(plan, generator: generator),
            FirewalldWriter.render(plan, generator: generator).map { "<!-- file: \($0.0) -->\n\($0.1)" }.joined(
                separator: "\n")
        )
    }
}

@Suite struct RulesetTests {
    static var variants: [(String, RuleOptions)] {
        var sources = RuleOptions()
        sources.sources = [SourcePrefix("192.0.2.0/24"), SourcePrefix("2001:db8::/32")].compactMap { $0 }
        var edge = RuleOptions()
        edge.interfaces = [.external: "eth0", .internal: "eth1"]
        edge.policy = .drop
        edge.counters = true
        edge.table = "perimeter"
        edge.priority = -10
        var documented = RuleOptions()
        documented.documented = true
        var onlyEdge = RuleOptions()
        onlyEdge.roles = ["edge"]
        onlyEdge.sources = [SourcePrefix("192.0.2.7")].compactMap { $0 }
        return [
            ("default", RuleOptions()), ("sources", sources), ("edge", edge), ("documented", documented),
            ("only-edge", onlyEdge),
        ]
    }

    @Test func goldenFilesForEveryTarget() throws {
        let result = try RuleFixtures.scan(RuleFixtures.allScenarios)
        var documented = RuleOptions()
        documented.documented = true
        documented.sources = [SourcePrefix("192.0.2.0/24"), SourcePrefix("2001:db8::/32")].compactMap { $0 }
        for (suffix, options) in [("", RuleOptions()), ("-documented", documented)] {
            let rendered = try RuleFixtures.render(result, options)
            for (name, text) in [
                ("corpus\(suffix).nft", rendered.nft), ("corpus\(suffix).v4", rendered.v4),
                ("corpus\(suffix).v6", rendered.v6),
                ("corpus\(suffix).ufw", rendered.ufw), ("corpus\(suffix).firewalld", rendered.firewalld),
            ] {
                let url = RuleFixtures.golden.appendingPathComponent(name)
                if ProcessInfo.processInfo.environment["OCSLOG_UPDATE_GOLDEN"] == "1" {
                    try text.write(to: url, atomically: true, encoding: .utf8)
                }
                let expected = try String(contentsOf: url, encoding: .utf8)
                #expect(text == expected, "\(name) differs from its golden file (OCSLOG_UPDATE_GOLDEN=1 rewrites it)")
            }
        }
    }

    @Test func everyVariantPassesTheKernelChecks() throws {
        let result = try RuleFixtures.scan(RuleFixtures.allScenarios)
        for (name, options) in Self.variants {
            let rendered = try RuleFixtures.render(result, options)
            let nft = try RuleFixtures.checkNFT(rendered.nft)
            #expect(nft.status == 0, "\(name): nft -c: \(nft.output)")
            let v4 = try RuleFixtures.checkIPTables(rendered.v4, tool: "iptables-restore")
            #expect(v4.status == 0, "\(name): iptables-restore --test: \(v4.output)")
            let v6 = try RuleFixtures.checkIPTables(rendered.v6, tool: "ip6tables-restore")
            #expect(v6.status == 0, "\(name): ip6tables-restore --test: \(v6.output)")
        }
    }

    @Test func outputDoesNotDependOnInputOrder() throws {
        let forward = try RuleFixtures.scan(RuleFixtures.allScenarios)
        let backward = try RuleFixtures.scan(RuleFixtures.allScenarios.reversed())
        for (name, options) in Self.variants {
            let one = try RuleFixtures.render(forward, options)
            let other = try RuleFixtures.render(backward, options)
            #expect(one.nft == other.nft, "\(name)")
            #expect(one.v4 == other.v4, "\(name)")
            #expect(one.v6 == other.v6, "\(name)")
            #expect(one.ufw == other.ufw, "\(name)")
            #expect(one.firewalld == other.firewalld, "\(name)")
        }
    }

    @Test func edgeSidesStayApartAndMSMQAndSQLOnlyWithTheirRoles() throws {
        var options = RuleOptions()
        options.documented = true
        let edgeOnly = try RuleFixtures.render(try RuleFixtures.scan(["edge"]), options).nft
        #expect(edgeOnly.contains("chain edge_external"))
        #expect(edgeOnly.contains("chain edge_internal"))
        #expect(!edgeOnly.contains("1801"))
        #expect(!edgeOnly.contains("1433"))
        let withBackEnd = try RuleFixtures.render(try RuleFixtures.scan(["back-end"]), options).nft
        #expect(withBackEnd.contains("1433 comment \"documented port of back-end"))
        #expect(!withBackEnd.contains("2103"))
    }

    @Test func hostileTextNeverLeavesItsComment() throws {
        let hostile = [
            "C:\\evil\" ; flush ruleset ; \"\\x.exe",
            "svc\n}\ntable inet x { chain y { type filter hook input priority 0; policy drop; } }",
            "a' -j DROP -m comment --comment 'b", String(repeating: "long name ", count: 60), "$(reboot) `id` {}",
        ]
        var result = try RuleFixtures.scan(["front-end"])
        for (index, text) in hostile.enumerated() {
            result.exceptions[index].program = text
            result.exceptions[index].service = text
            result.exceptions[index].evidence.path = text
        }
        result.inputs[0].path = hostile[1]
        let rendered = try RuleFixtures.render(result, RuleOptions())
        #expect(try RuleFixtures.checkNFT(rendered.nft).status == 0)
        #expect(try RuleFixtures.checkIPTables(rendered.v4, tool: "iptables-restore").status == 0)
        for text in [rendered.nft, rendered.v4] {
            for line in text.split(separator: "\n") {
                if line.contains("comment") {
                    // Exactly the two quotes that delimit the comment.
                    #expect(line.filter { $0 == "\"" }.count == 2, "\(line)")
                }
                // Outside comments (header lines and quoted comments), no word of the attacker's.
                guard !line.hasPrefix("#") else { continue }
                let code = line.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
                    .filter { $0.offset % 2 == 0 }.map(\.element).joined()
                for word in ["flush", "reboot", "evil", "policy drop", "DROP", "table inet x", "`", "$("] {
                    #expect(!code.contains(word), "\(word) outside a comment: \(line)")
                }
            }
            // Header lines are comments: none of them may end early and start a rule.
            #expect(!text.contains("\ntable inet x"))
        }
    }

    @Test func rangesMergeWhateverTheirOrder() throws {
        let texts = ["5061", "5060", "443", "50000-50010", "50005-50020", "50021", "80", "5062-5065", "5061"]
        let elements = try texts.enumerated().map { index, text in
            ChainPlan.Element(
                transport: .tcp, range: try PortRange.parse(text).get(), comment: "f.log:\(index + 1)", origin: .log)
        }
        for rotation in 0..<elements.count {
            let rotated = Array(elements[rotation...] + elements[..<rotation])
            let merged = RulePlan.merge(rotated)
            #expect(
                merged.map(\.range.description) == ["80", "443", "5060-5065", "50000-50021"], "rotation \(rotation)")
            #expect(merged == RulePlan.merge(rotated.reversed()))
        }
        let merged = RulePlan.merge(elements)
        #expect(merged[2].comment == "f.log:2 +3 more")
        let udp = ChainPlan.Element(
            transport: .udp, range: try PortRange.parse("5061").get(), comment: "f.log:9", origin: .log)
        #expect(RulePlan.merge(elements + [udp]).count == 5)
    }

    @Test func sourcePrefixesAreParsedNotCopied() {
        #expect(SourcePrefix("192.0.2.0/24")?.description == "192.0.2.0/24")
        #expect(SourcePrefix("2001:DB8:0:0::/32")?.description == "2001:db8::/32")
        #expect(SourcePrefix("192.0.2.7")?.description == "192.0.2.7")
        for bad in [
            "192.0.2.0/33", "10.0.0.0/-1", "example.com", "192.0.2.0/24; flush ruleset", "", "1.2.3.4/", "::1/129",
        ] {
            #expect(SourcePrefix(bad) == nil, "\(bad)")
        }
    }

    @Test func badTableAndInterfaceNamesAreRefused() {
        var options = RuleOptions()
        options.table = "ocslog; flush ruleset"
        #expect(throws: RuleError.self) { try options.validate() }
        options.table = "ocslog"
        options.interfaces = [.external: "eth0\" accept"]
        #expect(throws: RuleError.self) { try options.validate() }
    }

    @Test func atomicWritesReplaceWholeOrNotAtAll() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ocslog-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("rules.nft").path
        try AtomicFile.write("old\n", to: path)
        try AtomicFile.write("new\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        // A target that cannot be replaced (a folder) fails and leaves no temporary file behind.
        let blocked = folder.appendingPathComponent("blocked").path
        try FileManager.default.createDirectory(atPath: blocked + "/inside", withIntermediateDirectories: true)
        #expect(throws: (any Error).self) { try AtomicFile.write("x", to: blocked) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.contains(".ocslog-")
        }
        #expect(leftovers.isEmpty)
    }
}

/// Loads the rules in network namespaces the test makes, and probes allowed and other ports.
@Suite(.serialized, .enabled(if: RuleFixtures.isRoot, "network namespaces need root"))
struct NamespaceTests {
    func probe(_ kind: String, _ rules: String, _ ports: [String]) throws -> Set<String> {
        let path = try RuleFixtures.temporaryFile(rules, name: kind)
        defer { unlink(path) }
        let outcome = try RuleFixtures.run([
            "timeout", "120", "bash", RuleFixtures.probe, kind, path, ports.joined(separator: " "),
        ])
        #expect(outcome.status == 0, "\(outcome.output)")
        return Set(
            outcome.output.split(separator: "\n").map(String.init).filter {
                $0.hasSuffix("open") || $0.hasSuffix("closed")
            })
    }

    static var dropping: RuleOptions {
        var options = RuleOptions()
        options.policy = .drop
        return options
    }

    @Test(arguments: ["nft", "iptables"])
    func frontEndRulesPassExactlyTheOpenedPorts(kind: String) throws {
        let rendered = try RuleFixtures.render(try RuleFixtures.scan(["front-end"]), Self.dropping)
        let rules = kind == "nft" ? rendered.nft : rendered.v4
        var ports = ["tcp:5061", "tcp:8057", "udp:50000", "tcp:5999", "udp:5998", "tcp:1433"]
        if kind == "nft" { ports += ["tcp6:5061", "tcp6:5999"] }
        let seen = try probe(kind, rules, ports)
        var expected: Set<String> = [
            "tcp 5061 open", "tcp 8057 open", "udp 50000 open", "tcp 5999 closed", "udp 5998 closed", "tcp 1433 closed",
        ]
        if kind == "nft" { expected.formUnion(["tcp6 5061 open", "tcp6 5999 closed"]) }
        #expect(seen == expected)
    }

    @Test(arguments: ["nft", "iptables"])
    func edgeRulesPassExactlyTheOpenedPorts(kind: String) throws {
        let rendered = try RuleFixtures.render(try RuleFixtures.scan(["edge"]), Self.dropping)
        let rules = kind == "nft" ? rendered.nft : rendered.v4
        let seen = try probe(kind, rules, ["tcp:443", "udp:3478", "tcp:50010", "tcp:8057", "tcp:5060", "udp:3479"])
        #expect(
            seen == [
                "tcp 443 open", "udp 3478 open", "tcp 50010 open", "tcp 8057 open", "tcp 5060 closed",
                "udp 3479 closed",
            ])
    }

    @Test func loadingTheSameNFTFileTwiceLeavesOneCopy() throws {
        let rendered = try RuleFixtures.render(try RuleFixtures.scan(["front-end", "edge"]), RuleOptions())
        let path = try RuleFixtures.temporaryFile(rendered.nft, name: "twice.nft")
        defer { unlink(path) }
        let namespace = "ocsidem\(getpid())"
        try RuleFixtures.run(["ip", "netns", "add", namespace])
        defer { _ = try? RuleFixtures.run(["ip", "netns", "del", namespace]) }
        let first = try RuleFixtures.run(["timeout", "10", "ip", "netns", "exec", namespace, "nft", "-f", path])
        #expect(first.status == 0, "\(first.output)")
        let once = try RuleFixtures.run(["ip", "netns", "exec", namespace, "nft", "list", "ruleset"]).output
        let second = try RuleFixtures.run(["timeout", "10", "ip", "netns", "exec", namespace, "nft", "-f", path])
        #expect(second.status == 0, "\(second.output)")
        let twice = try RuleFixtures.run(["ip", "netns", "exec", namespace, "nft", "list", "ruleset"]).output
        #expect(once == twice)
        #expect(twice.components(separatedBy: "jump front_end").count == 2)
    }

    @Test func restoringTheSameIPTablesFileTwiceWithNoflushLeavesOneCopy() throws {
        let rendered = try RuleFixtures.render(try RuleFixtures.scan(["front-end", "edge"]), RuleOptions())
        let namespace = "ocsipt\(getpid())"
        try RuleFixtures.run(["ip", "netns", "add", namespace])
        defer { _ = try? RuleFixtures.run(["ip", "netns", "del", namespace]) }
        for _ in 0..<2 {
            let restore = try RuleFixtures.run(
                ["timeout", "10", "ip", "netns", "exec", namespace, "iptables-restore", "--noflush"], input: rendered.v4
            )
            #expect(restore.status == 0, "\(restore.output)")
        }
        let rules = try RuleFixtures.run(["ip", "netns", "exec", namespace, "iptables", "-S"]).output
        #expect(rules.components(separatedBy: "-A OCSLOG-INPUT -j OCSLOG-FRONT-END").count == 2)
        #expect(rules.components(separatedBy: "-A OCSLOG-FRONT-END -p udp -m udp --dport 49152:65535").count == 2)
    }
}
