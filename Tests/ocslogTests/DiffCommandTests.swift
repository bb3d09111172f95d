import Foundation
import TestSupport
import Testing
import Yams

@Suite struct DiffCommandTests {
    struct Expected: Decodable {
        struct FindingCheck: Decodable {
            let role: String
            let code: String?
            let knownIssue: String?
            enum CodingKeys: String, CodingKey {
                case role, code
                case knownIssue = "known_issue"
            }
        }
        let exit: Int32
        let roles: [String]
        let resolved: [FindingCheck]
        let new: [FindingCheck]
        let unchanged: [FindingCheck]
        let exceptionsAdded: [String]
        let exceptionsRemoved: [String]
        enum CodingKeys: String, CodingKey {
            case exit, roles, resolved, new, unchanged
            case exceptionsAdded = "exceptions_added"
            case exceptionsRemoved = "exceptions_removed"
        }
    }

    static let pairs = BinaryRunner.packageRoot.appendingPathComponent("corpus/diff")

    static func pairNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: pairs.path).sorted()
    }

    /// Checks `ocslog diff` JSON against a pair's expectations.
    func check(_ json: String, against expected: Expected, _ pair: String) throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let roles = try #require(document["roles"] as? [[String: Any]])
        #expect(roles.compactMap { $0["role"] as? String } == expected.roles, "\(pair)")
        func findings(_ key: String) -> [(String, String?, String?)] {
            roles.flatMap { role in
                ((role[key] as? [[String: Any]]) ?? []).map {
                    (role["role"] as? String ?? "", $0["code"] as? String, $0["knownIssue"] as? String)
                }
            }
        }
        func same(_ found: [(String, String?, String?)], _ wanted: [Expected.FindingCheck]) -> Bool {
            found.count == wanted.count
                && zip(found, wanted).allSatisfy { found, wanted in
                    found.0 == wanted.role && (wanted.code == nil || found.1 == wanted.code)
                        && (wanted.knownIssue == nil || found.2 == wanted.knownIssue)
                }
        }
        #expect(
            same(findings("findingsResolved"), expected.resolved), "\(pair): resolved \(findings("findingsResolved"))")
        #expect(same(findings("findingsNew"), expected.new), "\(pair): new \(findings("findingsNew"))")
        #expect(same(findings("findingsUnchanged"), expected.unchanged), "\(pair): unchanged")
        func exceptions(_ key: String) -> [String] {
            roles.flatMap { role in
                ((role[key] as? [[String: Any]]) ?? []).map {
                    "\(role["role"] as? String ?? "") \($0["protocol"] as? String ?? "")/\($0["ports"] as? String ?? "")"
                }
            }.sorted()
        }
        #expect(exceptions("exceptionsAdded") == expected.exceptionsAdded.sorted(), "\(pair): added")
        #expect(exceptions("exceptionsRemoved") == expected.exceptionsRemoved.sorted(), "\(pair): removed")
    }

    @Test func everyCorpusPairGivesItsExpectedDiff() throws {
        for pair in try Self.pairNames() {
            let folder = Self.pairs.appendingPathComponent(pair)
            let expected = try YAMLDecoder().decode(
                Expected.self,
                from: String(contentsOf: folder.appendingPathComponent("expected.yaml"), encoding: .utf8))
            let before = folder.appendingPathComponent("before").path
            let after = folder.appendingPathComponent("after").path
            let outcome = try BinaryRunner.run(["diff", before, after, "--format", "json"])
            #expect(outcome.status == expected.exit, "\(pair): \(outcome.standardError)")
            try check(outcome.standardOutput, against: expected, pair)

            // The same from saved scan results, and in the other direction the failure is new (exit 1).
            let temporary = try BinaryRunner.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: temporary) }
            let beforeJSON = temporary.appendingPathComponent("before.json")
            let afterJSON = temporary.appendingPathComponent("after.json")
            try BinaryRunner.run(["scan", before, "--format", "json"]).standardOutput.write(
                to: beforeJSON, atomically: true, encoding: .utf8)
            try BinaryRunner.run(["scan", after, "--format", "json"]).standardOutput.write(
                to: afterJSON, atomically: true, encoding: .utf8)
            let fromJSON = try BinaryRunner.run(["diff", beforeJSON.path, afterJSON.path, "--format", "json"])
            #expect(fromJSON.status == expected.exit)
            try check(fromJSON.standardOutput, against: expected, pair + " (from scan results)")
            let reversed = try BinaryRunner.run(["diff", afterJSON.path, beforeJSON.path])
            #expect(reversed.status == (expected.resolved.isEmpty ? 0 : 1), "\(pair): the failure is new again")
            #expect(reversed.standardOutput.contains("new "))
            let markdown = try BinaryRunner.run(["diff", before, after, "--format", "md"])
            #expect(markdown.standardOutput.hasPrefix("# ocslog diff"))
        }
    }

    @Test func aSideThatIsNeitherAScanNorLogsIsAClearError() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bogus = folder.appendingPathComponent("bogus.json")
        try "{\"hello\": 1}".write(to: bogus, atomically: true, encoding: .utf8)
        let outcome = try BinaryRunner.run(["diff", bogus.path, folder.path])
        #expect(outcome.status == 2)
        #expect(outcome.standardError.contains("bogus.json: not an `ocslog scan --format json` result"))
        let missing = try BinaryRunner.run(["diff", folder.appendingPathComponent("nope").path, folder.path])
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("no such file or directory"))
    }
}
