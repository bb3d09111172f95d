import Foundation
import TestSupport
import Testing

@Suite struct CommandTests {
    func write(_ bytes: [UInt8], name: String, in folder: URL) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func jsonInputs(_ output: String) throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        #expect(object?["schemaVersion"] as? Int == 1)
        return try #require(object?["inputs"] as? [[String: Any]])
    }

    @Test func crlfFromStandardInputAndUTF16WithBOMCountTheSameLines() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = try write(Array("a\r\nb".utf8), name: "plain.log", in: folder)
        let wide = try write([0xFF, 0xFE, 0x61, 0, 0x0D, 0, 0x0A, 0, 0x62, 0], name: "wide.log", in: folder)
        let fromPipe = try BinaryRunner.run(["scan", "--format", "json"], standardInput: plain)
        let fromWide = try BinaryRunner.run(["scan", "--format", "json"], standardInput: wide)
        #expect(fromPipe.status == 0)
        #expect(fromWide.status == 0)
        let pipeInput = try jsonInputs(fromPipe.standardOutput)[0]
        let wideInput = try jsonInputs(fromWide.standardOutput)[0]
        #expect(pipeInput["path"] as? String == "-")
        #expect(pipeInput["lines"] as? Int == 2)
        #expect(wideInput["lines"] as? Int == 2)
        #expect(pipeInput["encoding"] as? String == "utf-8")
        #expect(wideInput["encoding"] as? String == "utf-16le")
    }

    @Test func foldersAreReadRecursivelyInNameOrderAndMissingPathsReported() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("b/c"), withIntermediateDirectories: true)
        _ = try write(Array("one\n".utf8), name: "b/c/z.log", in: folder)
        _ = try write(Array("one\ntwo\n".utf8), name: "a.log", in: folder)
        let outcome = try BinaryRunner.run(["scan", "--format", "json", folder.path, folder.path + "/missing.log"])
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains("missing.log: no such file or directory"))
        let inputs = try jsonInputs(outcome.standardOutput)
        #expect(
            inputs.map { ($0["path"] as? String ?? "").replacingOccurrences(of: folder.path, with: "") } == [
                "/a.log", "/b/c/z.log",
            ])
        #expect(inputs.map { $0["lines"] as? Int ?? -1 } == [2, 1])
    }

    @Test func oneFiftyMebibyteLineIsReadInBoundedMemory() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("long.log").path
        // 50 MiB of one line, then a short one, written in pieces.
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let piece = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<50 { handle.write(piece) }
        handle.write(Data("\nshort line\n".utf8))
        try handle.close()
        let outcome = try BinaryRunner.run(["scan", "--format", "json", path])
        #expect(outcome.status == 0)
        let input = try jsonInputs(outcome.standardOutput)[0]
        #expect(input["lines"] as? Int == 2)
        let skipped = try #require(input["skipped"] as? [String: Any])
        #expect(skipped["longLines"] as? Int == 1)
        #expect(skipped["bytes"] as? Int == 49 << 20)
        #expect(outcome.peakResidentKiB < 64 * 1024, "peak RSS \(outcome.peakResidentKiB) KiB")
    }

    @Test func rolesListsRolesPortsAndPatterns() throws {
        let text = try BinaryRunner.run(["roles"])
        #expect(text.status == 0)
        #expect(text.standardOutput.contains("front-end  Front End (Enterprise Edition)"))
        #expect(text.standardOutput.contains("tcp/5061"))
        let json = try BinaryRunner.run(["roles", "--format", "json"])
        let roles = try #require(
            try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]])
        #expect(roles.contains { $0["id"] as? String == "edge" && !(($0["ports"] as? [Any]) ?? []).isEmpty })
        let patterns = try BinaryRunner.run(["roles", "--patterns"])
        let lines = patterns.standardOutput.split(separator: "\n")
        #expect(lines.contains("firewall") && lines.contains("\\.exe"), "literal words, ERE-escaped")
        // The list is usable by grep -E as it is.
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let list = folder.appendingPathComponent("patterns").path
        try patterns.standardOutput.write(toFile: list, atomically: true, encoding: .utf8)
        let sample = folder.appendingPathComponent("sample").path
        try "nothing here\nAdding firewall exception\nRTCSrv.exe started\nRTCSrvXexe\n".write(
            toFile: sample, atomically: true, encoding: .utf8)
        let grep = try BinaryRunner.spawn("/usr/bin/env", ["LC_ALL=C", "grep", "-ciE", "-f", list, sample])
        #expect(grep.standardOutput == "2\n")
    }

    @Test func errorsSayWhatWasWrongAndWhatToDo() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = try write(Array("hello\nworld\n".utf8), name: "notes.txt", in: folder)
        let outcome = try BinaryRunner.run(["scan", plain, folder.appendingPathComponent("missing.log").path])
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains("missing.log: no such file or directory (check the path"))
        #expect(outcome.standardError.contains("notes.txt: not recognised as an MSI"))
        #expect(outcome.standardError.contains("--format-hint"))
        #expect(outcome.standardOutput.contains("notes.txt"), "the other input is still reported")
        let role = try BinaryRunner.run(["scan", "--role", "frontend", plain])
        #expect(role.status == 2)
        #expect(role.standardError.contains("valid roles: back-end, front-end"))
    }

    @Test func completionsAndHelpComeFromTheCommandDefinitions() throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try BinaryRunner.run(["--generate-completion-script", shell])
            #expect(script.status == 0)
            #expect(script.standardOutput.contains("report") && script.standardOutput.contains("target"), "\(shell)")
        }
        for command in ["scan", "rules", "report", "explain", "roles"] {
            let help = try BinaryRunner.run([command, "--help"])
            #expect(help.status == 0, "\(command)")
            #expect(help.standardOutput.contains("Examples:"), "\(command) --help has examples")
            #expect(help.standardOutput.contains("ocslog \(command)"), "\(command) --help shows the command in use")
        }
    }

    @Test func versionAndHelp() throws {
        let version = try BinaryRunner.run(["--version"])
        #expect(version.status == 0)
        #expect(version.standardOutput.hasPrefix("0."))
        let help = try BinaryRunner.run(["scan", "--help"])
        #expect(help.status == 0)
        #expect(help.standardOutput.contains("cat *.log | ocslog scan"))
    }

    @Test func unknownEncodingIsAUsageError() throws {
        let outcome = try BinaryRunner.run(["scan", "--encoding", "ebcdic"])
        #expect(outcome.status == 2)
        #expect(
            outcome.standardError.contains("The value 'ebcdic' is invalid for '--encoding")
                && outcome.standardError.contains("'utf-16le'"))
    }
}

@Suite struct ScanCommandTests {
    static let corpus = BinaryRunner.packageRoot.appendingPathComponent("corpus/logs").path

    @Test func exitStatusFollowsFailOn() throws {
        let failing = try BinaryRunner.run(["scan", Self.corpus + "/kb974571"])
        #expect(failing.status == 1)
        #expect(failing.standardOutput.contains("KI-09"))
        let never = try BinaryRunner.run(["scan", "--fail-on", "never", Self.corpus + "/kb974571"])
        #expect(never.status == 0)
        let clean = try BinaryRunner.run(["scan", Self.corpus + "/edge"])
        #expect(clean.status == 0)
        let warningOnly = try BinaryRunner.run(["scan", Self.corpus + "/firewall-stopped"])
        #expect(warningOnly.status == 0)
        let strict = try BinaryRunner.run(["scan", "--fail-on", "warning", Self.corpus + "/firewall-stopped"])
        #expect(strict.status == 1)
    }

    @Test func jsonDocumentKeepsItsContract() throws {
        let outcome = try BinaryRunner.run([
            "scan", "--format", "json", Self.corpus + "/edge", Self.corpus + "/msi-failure",
        ])
        #expect(outcome.status == 1)
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        #expect(document["schemaVersion"] as? Int == 1)
        let inputs = try #require(document["inputs"] as? [[String: Any]])
        for key in ["path", "format", "encoding", "lines", "role"] { #expect(inputs[0][key] != nil, "inputs[].\(key)") }
        let exceptions = try #require(document["exceptions"] as? [[String: Any]])
        for key in ["role", "protocol", "portFrom", "portTo", "origin", "evidence"] {
            #expect(exceptions[0][key] != nil, "exceptions[].\(key)")
        }
        #expect(exceptions.contains { $0["interface"] as? String == "external" })
        let findings = try #require(document["findings"] as? [[String: Any]])
        for key in ["rank", "severity", "role", "title", "count", "evidence", "references"] {
            #expect(findings[0][key] != nil, "findings[].\(key)")
        }
        let summary = try #require(document["summary"] as? [String: Any])
        for key in ["errors", "warnings", "exceptions", "roles"] { #expect(summary[key] != nil, "summary.\(key)") }
    }

    @Test func standardInputPathIsADash() throws {
        let log = Self.corpus + "/edge/Activate Edge Server.html"
        let outcome = try BinaryRunner.run(["scan", "--format", "json"], standardInput: log)
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        let exceptions = try #require(document["exceptions"] as? [[String: Any]])
        #expect(exceptions.allSatisfy { ($0["evidence"] as? [String: Any])?["path"] as? String == "-" })
        #expect(exceptions.count == 8)
    }

    @Test func jsonLinesStreamEventsThenASummary() throws {
        let outcome = try BinaryRunner.run(["scan", "--format", "jsonl", Self.corpus + "/monitoring"])
        let lines = outcome.standardOutput.split(separator: "\n")
        // Raw events as found (two programs completed from documentation, two ports from the log), each
        // once although the XML states them in an element and its text, then the summary.
        #expect(lines.count == 5)
        #expect(
            lines.dropLast().allSatisfy { $0.contains("\"type\":\"exception\"") && $0.contains("\"portFrom\":1801") })
        #expect(lines.last?.contains("\"type\":\"summary\"") == true)
        #expect(lines.last?.contains("\"exceptions\":2") == true)
    }

    @Test func explainShowsMatchesAndWhatWasNotUnderstood() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("setup.log")
        try
            "Added firewall exception: port 5061/TCP\nFirewall rule 'SIP' opened on port (unspecified) for TCP traffic\n"
            .write(
                to: log, atomically: true, encoding: .utf8)
        let outcome = try BinaryRunner.run(["scan", "--explain", log.path])
        #expect(outcome.standardError.contains("setup.log:1: [exception-entry] exception role=unknown tcp/5061"))
        #expect(outcome.standardError.contains("setup.log:2: not understood: Firewall rule 'SIP'"))
        #expect(outcome.standardOutput.contains("not understood (see --explain): \(log.path): 1 line"))
    }

    @Test func knowledgeFolderAddsASignatureAndARoleWithoutRebuilding() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let knowledge = folder.appendingPathComponent("knowledge")
        try FileManager.default.createDirectory(at: knowledge, withIntermediateDirectories: true)
        try """
        prefilter: [regle]
        roles:
          - {id: xmpp-gateway, name: XMPP Gateway, weight: 2, steps: [Activer la passerelle XMPP], programs: [XmppTGW.exe]}
        ports:
          - {role: xmpp-gateway, ports: "5269", protocol: tcp, purpose: XMPP federation, origin: known}
        signatures:
          - id: french-rule
            type: exception
            pattern: '(?i)regle de pare-feu ajoutee'
            samples: ["Regle de pare-feu ajoutee : TCP 5269"]
        """.write(to: knowledge.appendingPathComponent("xmpp.yaml"), atomically: true, encoding: .utf8)
        let log = folder.appendingPathComponent("xmpp.html")
        try """
        <html><head><title>Activer la passerelle XMPP</title></head><body>
        <div>Regle de pare-feu ajoutee : TCP 5269</div></body></html>
        """.write(to: log, atomically: true, encoding: .utf8)
        let without = try BinaryRunner.run(["scan", "--format", "json", log.path])
        #expect(!without.standardOutput.contains("xmpp-gateway"))
        let with = try BinaryRunner.run(["scan", "--format", "json", "--knowledge", knowledge.path, log.path])
        #expect(with.status == 0, "\(with.standardError)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(with.standardOutput.utf8)) as? [String: Any])
        let exceptions = try #require(document["exceptions"] as? [[String: Any]])
        #expect(exceptions.count == 1)
        #expect(exceptions.first?["role"] as? String == "xmpp-gateway")
        #expect(exceptions.first?["portFrom"] as? Int == 5269)
    }

    @Test func badKnowledgeAndUnknownRolesAreClearErrors() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try "signatures:\n  - {id: broken, type: error, pattern: '(', samples: [x]}\n".write(
            to: folder.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        let bad = try BinaryRunner.run(["scan", "--knowledge", folder.path])
        #expect(bad.status == 2)
        #expect(bad.standardError.contains("bad.yaml: entry 'broken'"))
        let role = try BinaryRunner.run(["scan", "--role", "mail-server"])
        #expect(role.status == 2)
        #expect(role.standardError.contains("unknown role 'mail-server'; valid roles: back-end, front-end"))
    }
}

@Suite struct RulesCommandTests {
    static let corpus = BinaryRunner.packageRoot.appendingPathComponent("corpus/logs").path

    @Test func writesTheFileWholeAndScanWritesTheSameRuleset() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let viaRules = folder.appendingPathComponent("rules.nft").path
        let viaScan = folder.appendingPathComponent("scan.nft").path
        let v4 = folder.appendingPathComponent("scan.v4").path
        let rules = try BinaryRunner.run(["rules", "--target", "nft", "-o", viaRules, Self.corpus + "/front-end"])
        #expect(rules.status == 0, "\(rules.standardError)")
        #expect(rules.standardOutput.isEmpty)
        let scan = try BinaryRunner.run(["scan", "--nft", viaScan, "--iptables", v4, Self.corpus + "/front-end"])
        #expect(scan.status == 0, "\(scan.standardError)")
        #expect(
            try String(contentsOfFile: viaRules, encoding: .utf8) == String(contentsOfFile: viaScan, encoding: .utf8))
        let v4Text = try String(contentsOfFile: v4, encoding: .utf8)
        #expect(v4Text.contains("-A OCSLOG-FRONT-END -p tcp -m tcp -m multiport --dports 5065,5071,8057"))
        // OcsAppServerHost.exe is named without a port: its documented ports stay out of the ruleset.
        #expect(!v4Text.contains("5072") && v4Text.contains("no log line states left out"))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == [
                "rules.nft", "scan.nft", "scan.v4",
            ])
    }

    @Test func badOptionsAreUsageErrors() throws {
        for (arguments, message) in [
            (["--source", "192.0.2.0/33"], "--source '192.0.2.0/33'"), (["--table", "x;y"], "table name"),
            (["--interface", "external=eth0;reboot"], "interface name"), (["--policy", "reject"], "--policy"),
            (["--target", "pf"], "pf"), (["--role", "mail"], "unknown role 'mail'"),
        ] {
            let outcome = try BinaryRunner.run(["rules"] + arguments)
            #expect(outcome.status == 2, "\(arguments)")
            #expect(outcome.standardError.contains(message), "\(arguments): \(outcome.standardError)")
            #expect(outcome.standardOutput.isEmpty)
        }
    }

    @Test func aLogCannotInjectIntoTheRuleset() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("evil.log")
        try """
        Added firewall exception: port 5061; flush ruleset/TCP
        Added firewall exception for program C:\\x\\"; flush ruleset; \\".exe port 5062/TCP
        Added firewall exception: ports 0/TCP, 65536/TCP
        Added firewall exception: port 5070-5060/TCP
        """.write(to: log, atomically: true, encoding: .utf8)
        let outcome = try BinaryRunner.run(["rules", "--target", "nft", log.path])
        #expect(outcome.status == 0)
        let code = outcome.standardOutput.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map {
                $0.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 0 }
                    .map(\.element).joined()
            }
        #expect(!code.joined().contains("flush"))
        #expect(outcome.standardOutput.contains("5062 comment"))
        #expect(!outcome.standardOutput.contains("65536"))
        let scan = try BinaryRunner.run(["scan", "--format", "json", log.path])
        #expect(scan.standardOutput.contains("invalid-exception-port"))
        #expect(
            scan.standardOutput.components(separatedBy: "\"signature\" : \"suspicious-exception-entry\"").count == 3)
    }
}

/// `cat FILES | ocslog scan` through the command itself: the same exceptions, findings and roles as
/// the files given as arguments (what a pipe cannot carry aside: paths, line numbers, and the roles
/// and servers that only a file's name or folder supplies).
@Suite struct PipeCommandTests {
    @Test func aPipeOfLogsGivesWhatTheFilesGive() throws {
        let root = BinaryRunner.packageRoot.appendingPathComponent("corpus/logs").path
        // Logs with a header, named after nothing (no role from a file name), each in a folder of its own.
        let scenarios = [
            "edge/Activate Edge Server.html", "mediation/MediationServer-Install.log",
            "director/LCSCmd-Activate-Director.xml", "kb974571/Activate Enterprise Edition Server.html",
            "events/System-fe02.txt", "contoso-deployment/MSI7c9d2.LOG",
        ]
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var paths: [String] = []
        for (index, scenario) in scenarios.enumerated() {
            let own = folder.appendingPathComponent("f\(index)")
            try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
            let path = own.appendingPathComponent("log").path
            try FileManager.default.copyItem(atPath: root + "/" + scenario, toPath: path)
            paths.append(path)
        }
        let quoted = paths.map { "'\($0)'" }.joined(separator: " ")
        let piped = try BinaryRunner.spawn(
            "/bin/sh", ["-c", "cat \(quoted) | '\(BinaryRunner.binary)' scan --format json --fail-on never"])
        let files = try BinaryRunner.run(["scan", "--format", "json", "--fail-on", "never"] + paths)
        func comparable(_ output: String) throws -> [String] {
            let document = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            let inputs = try #require(document["inputs"] as? [[String: Any]])
            let exceptions = try #require(document["exceptions"] as? [[String: Any]])
            let findings = try #require(document["findings"] as? [[String: Any]])
            return inputs.map { "input \($0["role"] ?? "") \($0["server"] ?? "-") \($0["format"] ?? "")" }
                + exceptions.map {
                    "exception \($0["server"] ?? "-") \($0["role"] ?? "") \($0["protocol"] ?? "") \($0["portFrom"] ?? "")-\($0["portTo"] ?? "") \($0["origin"] ?? "")"
                }
                + findings.map {
                    "finding \($0["rank"] ?? "") \($0["server"] ?? "-") \($0["role"] ?? "") \($0["title"] ?? "") \($0["count"] ?? "")"
                }
        }
        #expect(piped.status == 0 && files.status == 0, "\(piped.standardError)\(files.standardError)")
        let got = try comparable(piped.standardOutput)
        #expect(got.filter { $0.hasPrefix("input") }.count == scenarios.count)
        #expect(got == (try comparable(files.standardOutput)))
    }
}
