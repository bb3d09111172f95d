import Foundation
import PCRE2
import ScanModel
import TestSupport
import Testing

@testable import Knowledge

@Suite struct KnowledgeTests {
    func loader(with files: [String: String]) throws(KnowledgeError) -> KnowledgeBase {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ocslog-knowledge-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in files {
            try? text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try KnowledgeBase.load(overrides: folder.path)
    }

    /// The attention pattern runs only on records that pass the prefilter: each of its
    /// alternatives must hold a prefilter word, or "not understood" would miss lines.
    @Test func everythingTheAttentionPatternMatchesPassesThePrefilter() throws {
        let knowledge = try KnowledgeBase.embedded()
        let attention = try #require(knowledge.attention).makeMatcher()
        let prefilter = knowledge.prefilter.makeMatcher()
        for text in [
            // Ports and protocols count only inside firewall sections: the analyzer checks those itself.
            "firewall", "Pare-feu", "failed", "Fehler", "fehlgeschlagen", "an error",
            "code 0x80070005",
        ] {
            var copy = text
            let matches = copy.withUTF8 { attention.firstMatch(in: UnsafeRawBufferPointer($0)) }
            let passes = copy.withUTF8 { prefilter.firstMatch(in: UnsafeRawBufferPointer($0)) }
            #expect(matches, "the sample \(text) matches the attention pattern")
            #expect(passes, "\(text) passes the prefilter")
        }
    }

    @Test func embeddedKnowledgeLoads() throws {
        let knowledge = try KnowledgeBase.embedded()
        #expect(
            Set(knowledge.roles.map(\.id)).isSuperset(of: [
                "front-end", "standard-edition", "back-end", "web-components", "communicator-web-access", "director",
                "edge", "mediation", "archiving", "monitoring", "group-chat",
            ]))
        #expect(
            knowledge.ports.contains {
                $0.role == .edge && $0.interface == .external && $0.range.description == "50000-59999"
            })
        #expect(knowledge.knownIssues.contains { $0.id == "KI-09" && $0.codes.contains("0xC3EC796C") })
        // Edge ports always name their interface, and never merge external with internal.
        #expect(knowledge.ports.filter { $0.role == "edge" }.allSatisfy { $0.interface != nil })
    }

    /// The firewall in front of the servers needs, for every documented port, who connects to it
    /// and where that is stated; the Edge's media range and STUN go both ways.
    @Test func everyDocumentedPortSaysWhoConnectsWithItsReference() throws {
        let knowledge = try KnowledgeBase.embedded()
        for port in knowledge.ports {
            #expect(!port.from.isEmpty, "\(port.role) \(port.range): no from:")
            #expect(port.reference?.isEmpty == false, "\(port.role) \(port.range): no reference:")
        }
        let external = knowledge.ports.filter { $0.role == .edge && $0.interface == .external }
        #expect(external.allSatisfy { $0.from == [.zone(.internet)] })
        #expect(external.first { $0.range.description == "50000-59999" }?.direction == .both)
        #expect(knowledge.ports.filter { $0.role == "back-end" }.allSatisfy { !$0.from.contains(.zone(.internet)) })
        #expect(knowledge.translation.contains { $0.role == "edge" && $0.address == .av && $0.when == .translated })
    }

    @Test(arguments: ["from: [outside]", "from: [edge:dmz]", "direction: out"])
    func aBadPeerOrDirectionIsRefused(field: String) {
        do {
            _ = try loader(with: [
                "ports.yaml": "ports:\n  - {role: edge, ports: \"25\", protocol: tcp, purpose: SMTP, \(field)}\n"
            ])
            Issue.record("\(field) loaded")
        } catch {
            #expect(error.entry == "edge 25")
            #expect(error.message.contains(field.hasPrefix("from") ? "from '" : "direction must be in or both"))
        }
    }

    @Test func aBadRegexNamesTheFileAndEntry() {
        do {
            _ = try loader(with: [
                "mine.yaml": "signatures:\n  - {id: broken, type: error, pattern: 'port (\\\\d+', samples: [x]}\n"
            ])
            Issue.record("a bad regex loaded")
        } catch {
            #expect(error.file.hasSuffix("mine.yaml"))
            #expect(error.entry == "broken")
            #expect(error.message.contains("missing closing parenthesis"))
        }
    }

    @Test func anUnknownRoleIsRefused() {
        do {
            _ = try loader(with: [
                "ports.yaml": "ports:\n  - {role: mail-server, ports: \"25\", protocol: tcp, purpose: SMTP}\n"
            ])
            Issue.record("an unknown role loaded")
        } catch {
            #expect(error.message.contains("unknown role 'mail-server'"))
            #expect(error.entry == "mail-server 25")
        }
    }

    /// An unquoted comma in a flow mapping ends the value and makes a key of the rest: refused, so
    /// that a purpose is never shortened silently (ports.yaml had three such).
    @Test func anUnknownKeyIsRefusedNotDropped() {
        do {
            _ = try loader(with: [
                "ports.yaml": "ports:\n  - {role: edge, ports: \"25\", protocol: tcp, purpose: SMTP, relay}\n"
            ])
            Issue.record("a purpose cut at its comma loaded")
        } catch {
            #expect(error.message.contains("unknown key 'relay'"), "\(error)")
            #expect(error.entry == "edge 25")
        }
    }

    @Test(arguments: ["0", "65536", "5061;", "70-60"])
    func aPortOutOfRangeIsRefused(port: String) {
        do {
            _ = try loader(with: [
                "ports.yaml":
                    "ports:\n  - {role: edge, interface: external, ports: \"\(port)\", protocol: tcp, purpose: x}\n"
            ])
            Issue.record("port \(port) loaded")
        } catch {
            #expect(error.description.contains("ports.yaml"))
            #expect(error.message.contains("port"))
        }
    }

    @Test func aSignatureWithoutSamplesIsRefused() {
        #expect(throws: KnowledgeError.self) {
            try loader(with: ["s.yaml": "signatures:\n  - {id: lonely, type: warning, pattern: 'x'}\n"])
        }
    }

    @Test func invalidYAMLSaysWhere() {
        do {
            _ = try loader(with: ["bad.yaml": "roles: [ {id: x\n"])
            Issue.record("invalid YAML loaded")
        } catch {
            #expect(error.file.hasSuffix("bad.yaml"))
        }
    }

    @Test func overridesAddAndReplaceByID() throws {
        let knowledge = try loader(with: [
            "extra.yaml": """
            roles:
              - {id: xmpp-gateway, name: XMPP Gateway, weight: 2, steps: [Activate XMPP Gateway], programs: [XmppTGW.exe]}
            ports:
              - {role: xmpp-gateway, ports: "5269", protocol: tcp, purpose: XMPP federation, origin: known}
            signatures:
              - id: generic-warning
                type: warning
                title: Caution
                pattern: '(?i)\\bcaution\\b'
                samples: ["CAUTION: low disk space"]
            """
        ])
        #expect(knowledge.role("xmpp-gateway")?.name == "XMPP Gateway")
        #expect(knowledge.signatures.filter { $0.id == "generic-warning" }.count == 1)
        #expect(knowledge.signatures.first { $0.id == "generic-warning" }?.title == "Caution")
    }

    @Test func errorCodesNormalize() throws {
        // The type knows its forms: hex, unsigned and signed decimal.
        let denied = try #require(ErrorCode("-2147024891"))
        #expect(denied.value == 0x8007_0005 && denied.isHex)
        #expect(denied.spellings == ["0x80070005", "2147942405", "-2147024891"])
        #expect(ErrorCode("1603")?.spellings == ["1603", "0x00000643"])
        #expect(ErrorCode("0x") == nil && ErrorCode("port") == nil && ErrorCode("4294967296") == nil)
        #expect(ErrorCode.normalize("0xc3ec796c") == "0xC3EC796C")
        #expect(ErrorCode.normalize("3286842403") == "0xC3E93C23")
        #expect(ErrorCode.normalize("-2147024891") == "0x80070005")
        #expect(ErrorCode.normalize("1603") == "1603")
        #expect(
            ErrorCode.codes(in: "error 3286842403 (0xC3E93C23) and 0x80070005; not 0x123") == [
                "0xC3E93C23", "0x80070005",
            ])
        #expect(ErrorCode.describeHRESULT(0x8007_0005) == "failure, Win32, code 5")
    }
}

/// The binary embeds the knowledge compiled from its YAML files (`Data/knowledge.json`): it must be
/// the compiled form of the YAML as committed.
@Suite struct CompiledKnowledgeTests {
    @Test func theEmbeddedCompiledKnowledgeIsTheYAMLsCompiledForm() throws {
        let data = BinaryRunner.packageRoot.appendingPathComponent("Sources/Knowledge/Data")
        let files = try KnowledgeBase.dataFiles.map { name in
            (name: name, text: try String(contentsOf: data.appendingPathComponent(name), encoding: .utf8))
        }
        let compiled = try KnowledgeBase.compile(files)
        let mismatch = try Snapshot.mismatch(compiled, file: data.appendingPathComponent("knowledge.json"))
        #expect(
            mismatch == nil,
            "\(mismatch ?? ""): the YAML changed; record knowledge.json (OCSLOG_UPDATE_GOLDEN=1) and build again")
    }

    @Test func theCompiledFormLoadsTheSameKnowledgeAsTheYAML() throws {
        let fromJSON = try KnowledgeBase.embedded()
        let data = BinaryRunner.packageRoot.appendingPathComponent("Sources/Knowledge/Data")
        // The YAML files read as overrides on top of the compiled ones replace every entry with itself.
        let fromYAML = try KnowledgeBase.load(overrides: data.path)
        #expect(fromJSON.roles == fromYAML.roles)
        #expect(fromJSON.ports == fromYAML.ports)
        #expect(fromJSON.signatures.map(\.id) == fromYAML.signatures.map(\.id))
        #expect(fromJSON.knownIssues.map(\.id) == fromYAML.knownIssues.map(\.id))
        #expect(fromJSON.codes == fromYAML.codes)
        #expect(fromJSON.prefilterWords == fromYAML.prefilterWords)
        #expect(fromJSON.vocabulary == fromYAML.vocabulary)
        #expect(fromJSON.firewall == fromYAML.firewall)
    }
}
