import Foundation
import Knowledge
import PCRE2
import ScanModel
import TestSupport
import Testing

@testable import LogParser

/// The literal prefilter answers exactly as the prefilter pattern (PCRE2, caseless) does.
@Suite struct LiteralSetTests {
    let knowledge: KnowledgeBase

    init() throws { knowledge = try ScanFixtures.knowledge }

    func bothAgree(_ text: [UInt8], _ literals: LiteralSet, _ pattern: Matcher) -> Bool {
        text.withUnsafeBytes { literals.firstMatch(in: $0) == pattern.firstMatch(in: $0) }
    }

    @Test func agreesWithThePatternOnEveryCorpusLine() throws {
        let literals = LiteralSet(knowledge.prefilterWords)
        let pattern = knowledge.prefilter.makeMatcher()
        var lines = 0
        var matches = 0
        for path in try Corpus.logs() {
            _ = try InputFile(path: path).read { line in
                lines += 1
                let bytes = Array(line.buffer)
                if literals.firstMatch(in: UnsafeRawBufferPointer(line.buffer)) { matches += 1 }
                #expect(bothAgree(bytes, literals, pattern), "\(path):\(line.number): \(line.text)")
            }
        }
        #expect(lines > 300 && matches > 50 && matches < lines)
    }

    @Test func agreesOnCaseEdgesAndRandomText() {
        let literals = LiteralSet(knowledge.prefilterWords)
        let pattern = knowledge.prefilter.makeMatcher()
        for text in [
            "", "F", "FIREWALL", "FiReWaLl", "fire wall", "TCP", "xtcpx", ".EXE", "0X1", "Échec", "ÉCHEC", "échec",
            "Log On", "logon", "WARN", "war", "messagequeuing", "Message Queuing", "MSMQ", "Did Not Start",
        ] {
            #expect(bothAgree(Array(text.utf8), literals, pattern), "\(text)")
        }
        var random: UInt64 = 42
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-éÉ".utf8)
        for _ in 0..<20_000 {
            var text: [UInt8] = []
            for _ in 0..<Int(random % 24) {
                random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                text.append(alphabet[Int((random >> 33) % UInt64(alphabet.count))])
            }
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Mostly valid UTF-8; a cut é now and then, which both must survive.
            #expect(bothAgree(text, literals, pattern), "\(String(decoding: text, as: UTF8.self))")
        }
    }
}
