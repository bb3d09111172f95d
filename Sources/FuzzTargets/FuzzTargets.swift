import Foundation
import Knowledge
import LogParser
import RuleGen
import ScanModel
import SystemCalls

/// The fuzz targets: each takes arbitrary bytes, must never crash, hang or grow without bound,
/// and checks the guarantees it can (a violated one stops the process, which the fuzzer reports).
/// The `ocslog-fuzz` executable runs them under libFuzzer, and the tests replay the regression
/// files in `Tests/FuzzRegressionTests/Inputs` through them.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The line reader with encoding detection and transcoding, at a small chunk size.
    case reader
    /// Each format's parser, forced with a format hint.
    case msi, html, xml, event, csv
    /// The knowledge-file loader (YAML added on top of the built-in knowledge).
    case knowledge
    /// The whole path: scan, then every ruleset target, checked for attacker text.
    case scanToRules = "scan-to-rules"
    /// The firewall's own record, each shape forced: a registry export, netsh advfirewall and
    /// netsh firewall output, an XML event export.
    case reg
    case netsh
    case netshConfig = "netsh-config"
    case eventXML = "event-xml"
    /// A firewall record through the analysis into rulesets: what it opens is valid, and nothing
    /// the record does not state is opened.
    case firewallRules = "firewall-rules"
    /// A topology file (`--topology`): refused with a line, or read and turned into forward
    /// rulesets that hold only printable ASCII and only the exceptions' ports.
    case topology

    /// Runs the target on one input.
    public func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        switch self {
        case .reader: Self.read(bytes)
        case .msi: Self.parse(bytes, .msiVerbose)
        case .html: Self.parse(bytes, .deploymentHTML)
        case .xml: Self.parse(bytes, .lcscmdXML)
        case .event: Self.parse(bytes, .eventText)
        case .csv: Self.parse(bytes, .eventCSV)
        case .knowledge: Self.loadKnowledge(bytes)
        case .scanToRules: Self.scanToRules(bytes)
        case .reg: Self.parse(bytes, .registryExport)
        case .netsh: Self.parse(bytes, .netshAdvfirewall)
        case .netshConfig: Self.parse(bytes, .netshFirewall)
        case .eventXML: Self.parse(bytes, .eventXML)
        case .firewallRules: Self.firewallRules(bytes)
        case .topology: Self.topology(bytes)
        }
    }

    /// Lines of at most this many bytes, so that fuzzing exercises the long-line path.
    static let maximumLineLength = 256

    static func read(_ bytes: [UInt8]) {
        // Chunk size from the first byte: boundaries land everywhere.
        let chunk = 1 + Int(bytes.first ?? 0) % 64
        let reader = LineReader(
            source: MemorySource(bytes, chunkSize: chunk), chunkSize: chunk, maximumLineLength: maximumLineLength)
        var lines = 0
        var previous = 0
        do {
            try reader.forEachLine { line in
                lines += 1
                check(line.number == previous + 1, "line numbers run in order")
                previous = line.number
                check(line.bytes.count <= maximumLineLength * 4 + 4, "a line stays within its maximum")
                // Every line the reader hands on is valid UTF-8.
                var copy = [UInt8]()
                copy.reserveCapacity(line.bytes.count)
                for index in line.bytes.indices { copy.append(line.bytes[index]) }
                check(String(validating: copy, as: UTF8.self) != nil, "lines are valid UTF-8")
            }
        } catch {
            // A memory source never fails.
            check(false, "memory source failed: \(error)")
        }
        check(reader.statistics.lines == lines, "the statistics count the lines delivered")
    }

    static func parse(_ bytes: [UInt8], _ format: LogFormat) {
        let reader = LineReader(
            source: MemorySource(bytes, chunkSize: 97), chunkSize: 97, maximumLineLength: maximumLineLength)
        var stream = LogStream(
            path: "fuzz", formatHint: format, vocabulary: builtIn.vocabulary, firewall: builtIn.firewall)
        var lastLine = 0
        let body: (RecordDraft) -> Void = { draft in
            check(draft.line >= 1, "records have a line")
            check(draft.context.count <= LogStream.maximumNesting + 2, "context depth is bounded")
            lastLine = max(lastLine, draft.line)
            if let change = draft.firewall {
                for port in change.rule.localPorts {
                    if case .range(let low, let high) = port {
                        check((1...65535).contains(low) && (1...65535).contains(high) && low <= high, "ports are ports")
                    }
                }
                if let number = change.rule.protocolNumber {
                    check((0...255).contains(number), "protocols are numbers")
                }
            }
            _ = draft.materialize()
        }
        do {
            try reader.forEachLine { line in stream.parse(line, body) }
            stream.finish(body)
        } catch {
            check(false, "memory source failed: \(error)")
        }
        check(lastLine <= reader.statistics.lines, "records point at lines that exist")
    }

    static func loadKnowledge(_ bytes: [UInt8]) {
        // Any text, valid YAML or not, gives a knowledge base or a KnowledgeError; never a crash.
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            let knowledge = try KnowledgeBase.embedded(adding: text, file: "fuzz.yaml")
            check(!knowledge.roles.isEmpty, "the built-in roles stay")
        } catch {
            check(!error.description.isEmpty, "errors say something")
        }
    }

    static let builtIn: KnowledgeBase = {
        do {
            return try KnowledgeBase.embedded()
        } catch {
            fatalError("the embedded knowledge does not load: \(error)")
        }
    }()

    static func scanToRules(_ bytes: [UInt8]) {
        let path = temporaryPath()
        let written = bytes.withUnsafeBytes { buffer -> Bool in
            do throws(Errno) {
                try OS.writeScratch(path, buffer)
                return true
            } catch {
                return false
            }
        }
        guard written else { return }
        defer { OS.remove(path) }
        let analyzer = Analyzer(knowledge: builtIn)
        do {
            try analyzer.analyze(InputFile(path: path))
        } catch {
            check(false, "a readable file failed: \(error)")
        }
        let result = analyzer.result()
        var options = RuleOptions()
        options.documented = bytes.first.map { $0 & 1 == 1 } ?? false
        let plan = RulePlan.build(from: result, knowledge: builtIn, options: options)
        let generator = Generator(version: "fuzz")
        let windows = WindowsPlan.build(from: result, knowledge: builtIn, roles: [], documented: options.documented)
        let outputs = [
            NFTWriter.render(plan, options: options, generator: generator),
            IPTablesWriter.render(plan, family: .ipv4, options: options, generator: generator),
            IPTablesWriter.render(plan, family: .ipv6, options: options, generator: generator),
            UFWWriter.render(plan, generator: generator),
        ]
        // Rulesets: printable ASCII only (attacker text is sanitized to a safe set before it gets here).
        for output in outputs {
            check(
                output.utf8.allSatisfy { $0 == 0x0A || $0 == 0x09 || ($0 >= 0x20 && $0 < 0x7F) },
                "a ruleset holds only printable ASCII")
        }
        // Windows scripts: no line break inside a command; quotes balanced.
        let netsh = NetshWriter.render(windows, generator: generator)
        for line in netsh.components(separatedBy: "\r\n") where line.hasPrefix("netsh ") {
            check(line.filter { $0 == "\"" }.count % 2 == 0, "netsh quotes are balanced")
        }
        let powershell = PowerShellWriter.render(windows, generator: generator)
        for line in powershell.split(separator: "\n") where line.hasPrefix("New-NetFirewallRule") {
            check(line.contains(" | Out-Null"), "each PowerShell rule is one line")
        }
    }

    /// A firewall record (the shape chosen by the first byte) into rulesets: every exception it
    /// gives has a port the record's bytes state, a valid prefix for every concrete remote address,
    /// and the rulesets hold only printable ASCII.
    static func firewallRules(_ bytes: [UInt8]) {
        let formats: [LogFormat] = [.registryExport, .netshAdvfirewall, .netshFirewall, .eventXML]
        let format = formats[Int(bytes.first ?? 0) % formats.count]
        let analyzer = Analyzer(knowledge: builtIn, options: AnalysisOptions(formatHint: format))
        do {
            try analyzer.analyze(InputFile(path: "fuzz", contents: Array(bytes.dropFirst())))
        } catch {
            check(false, "memory input failed: \(error)")
        }
        let result = analyzer.result()
        // (UTF-16 without its zero bytes; character references are decoded, so skip those inputs.)
        let text = String(decoding: bytes.filter { $0 != 0 }, as: UTF8.self)
        for exception in result.exceptions + (result.otherExceptions ?? []) where exception.origin == .firewall {
            check(
                text.contains("&#") || text.contains(String(exception.portFrom)),
                "a port the record states: \(exception.portFrom)")
            for remote in exception.remote ?? [] where remote.first?.isNumber == true || remote.contains(":") {
                check(SourcePrefix(remote) != nil, "a remote address is a valid prefix: \(remote)")
            }
        }
        check((result.firewallRules?.count ?? 0) <= ScanResult.maximumFirewallNotes, "notes are bounded")
        var options = RuleOptions()
        options.allFirewallRules = true
        let plan = RulePlan.build(from: result, knowledge: builtIn, options: options)
        checkPrintable(plan, options: options)
    }

    static func topology(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let topology: Topology
        do {
            topology = try Topology.parse(text, file: "fuzz.yaml", roles: Set(builtIn.roles.map(\.id)))
        } catch {
            check(!error.message.isEmpty, "a refused topology says why")
            return
        }
        // One exception per role, with and without a computer name, on both Edge sides.
        var exceptions: [FirewallException] = []
        for (index, role) in builtIn.roles.map(\.id).enumerated() {
            for server in [nil] + topology.servers.compactMap(\.name).prefix(3).map(Optional.some) {
                for side: EdgeInterface? in role == .edge ? [.external, .internal, nil] : [nil] {
                    guard let port = Port(rawValue: 5061 + index) else { continue }
                    exceptions.append(
                        FirewallException(
                            role: role, protocol: index % 2 == 0 ? .tcp : .udp, range: PortRange(port),
                            interface: side, program: nil, service: nil, origin: .log,
                            evidence: Evidence(path: "fuzz.log", line: index + 1), note: nil, server: server))
                }
            }
        }
        let result = ScanResult(
            inputs: [], exceptions: exceptions, findings: [], notUnderstood: [],
            summary: .init(errors: 0, warnings: 0, exceptions: exceptions.count, roles: []))
        var options = RuleOptions()
        options.topology = topology
        options.baseChain = bytes.count % 2 == 0
        let plan = ForwardPlan.build(from: result, knowledge: builtIn, options: options, topology: topology)
        for destination in plan.destinations {
            for group in destination.inbound + destination.outbound {
                for element in group.elements + group.scoped {
                    check(
                        exceptions.contains {
                            $0.protocol == element.transport && $0.portFrom <= Int(element.range.lowerBound.rawValue)
                                && Int(element.range.upperBound.rawValue) <= $0.portTo
                        }, "a forwarded port an exception states: \(element.range)")
                }
            }
        }
        let generator = Generator(version: "fuzz")
        checkPrintable([
            NFTWriter.render(plan, options: options, generator: generator),
            IPTablesWriter.render(plan, family: .ipv4, options: options, generator: generator),
            IPTablesWriter.render(plan, family: .ipv6, options: options, generator: generator),
        ])
    }

    /// The host rulesets of a plan hold only printable ASCII.
    static func checkPrintable(_ plan: RulePlan, options: RuleOptions) {
        let generator = Generator(version: "fuzz")
        checkPrintable([
            NFTWriter.render(plan, options: options, generator: generator),
            IPTablesWriter.render(plan, family: .ipv4, options: options, generator: generator),
            IPTablesWriter.render(plan, family: .ipv6, options: options, generator: generator),
        ])
    }

    /// Rulesets: printable ASCII only (attacker text is sanitized to a safe set before it gets here).
    static func checkPrintable(_ outputs: [String]) {
        for output in outputs {
            check(
                output.utf8.allSatisfy { $0 == 0x0A || $0 == 0x09 || ($0 >= 0x20 && $0 < 0x7F) },
                "a ruleset holds only printable ASCII")
        }
    }

    nonisolated(unsafe) static var scratch: String?

    static func temporaryPath() -> String {
        if let scratch { return scratch }
        let path = NSTemporaryDirectory() + "ocslog-fuzz-\(OS.processID).log"
        scratch = path
        return path
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition {
            OS.writeError("ocslog fuzz: guarantee broken: \(message())\n")
            abort()
        }
    }
}
