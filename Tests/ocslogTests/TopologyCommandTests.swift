import Foundation
import TestSupport
import Testing

@Suite struct TopologyCommandTests {
    static let corpus = BinaryRunner.packageRoot.appendingPathComponent("corpus/logs").path
    static let sample = BinaryRunner.packageRoot.appendingPathComponent("corpus/topology/contoso.yaml").path

    @Test func aBadTopologyStopsRulesAndScanWithItsLineAndExitTwo() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad = folder.appendingPathComponent("site.yaml").path
        try
            "zones:\n  internal: {interfaces: [eth2]}\nservers:\n  - role: front-end\n    zone: intranet\n    addresses: [192.0.2.1]\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let rules = try BinaryRunner.run(["rules", Self.corpus + "/front-end", "--topology", bad])
        #expect(rules.status == 2)
        #expect(rules.standardError.contains("site.yaml:5: unknown zone 'intranet' (zones: internal)"))
        #expect(rules.standardOutput.isEmpty)
        let nft = folder.appendingPathComponent("fw.nft").path
        let scan = try BinaryRunner.run(["scan", Self.corpus + "/front-end", "--nft", nft, "--topology", bad])
        #expect(scan.status == 2)
        #expect(scan.standardError.contains("site.yaml:5:"))
        #expect(!FileManager.default.fileExists(atPath: nft))
        let missing = try BinaryRunner.run([
            "rules", Self.corpus + "/front-end", "--topology", folder.path + "/none.yaml",
        ])
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("none.yaml: cannot read the topology file"))
        let ufw = try BinaryRunner.run([
            "rules", Self.corpus + "/front-end", "--topology", Self.sample, "--target", "ufw",
        ])
        #expect(ufw.status == 2)
    }

    @Test func rulesWithATopologyFilterForwardedTrafficAndWithoutOneSuggestIt() throws {
        let paths = [Self.corpus + "/edge", Self.corpus + "/front-end"]
        let host = try BinaryRunner.run(["rules"] + paths)
        #expect(host.status == 0)
        #expect(host.standardOutput.contains("type filter hook input"))
        #expect(host.standardOutput.contains("# For:       a Linux host that itself serves these ports"))
        #expect(host.standardError.contains("these logs are of 2 servers"))
        #expect(host.standardError.contains("--topology FILE"))
        let forward = try BinaryRunner.run(["rules"] + paths + ["--topology", Self.sample, "--policy", "drop"])
        #expect(forward.status == 0, "\(forward.standardError)")
        #expect(forward.standardOutput.contains("type filter hook forward priority 0; policy drop;"))
        #expect(forward.standardOutput.contains("ip daddr 203.0.113.10 dnat to 198.51.100.10"))
        #expect(!forward.standardError.contains("these logs are of"))
        let composed = try BinaryRunner.run(["rules"] + paths + ["--topology", Self.sample, "--no-base-chain"])
        #expect(composed.standardOutput.contains("nft add rule inet filter forward jump ocslog_forward"))
        #expect(!composed.standardOutput.contains("hook forward"))
        let both = try BinaryRunner.run(["rules"] + paths + ["--no-base-chain", "--policy", "drop"])
        #expect(both.status == 2)
        #expect(both.standardError.contains("--no-base-chain"))
    }
}
