import ScanModel
import Testing

@testable import LogParser
@testable import PCRE2

@Suite struct PatternTests {
    @Test func compileErrorCarriesMessageAndOffset() {
        do {
            _ = try Pattern("port (\\d+")
            Issue.record("an unbalanced group compiled")
        } catch {
            #expect(error.offset == 9)
            #expect(error.message.contains("missing closing parenthesis"))
            #expect(error.pattern == "port (\\d+")
            #expect(error.description.contains("offset 9"))
        }
    }

    @Test func compileErrorForBadQuantifier() {
        #expect(throws: PatternCompileError.self) { try Pattern("*5061") }
    }

    @Test(arguments: [true, false])
    func namedGroupsGiveByteRanges(jit: Bool) throws {
        let pattern = try Pattern(#"(?<port>\d{1,5})\s*/\s*(?<protocol>tcp|udp)"#, options: .caseInsensitive, jit: jit)
        #expect(pattern.isJITCompiled == (jit && Pattern.isJITAvailable))
        #expect(pattern.groupNumbers == ["port": 1, "protocol": 2])
        let result = try #require(pattern.firstMatch(in: "Öffne Port 5061 / TCP jetzt"))
        #expect(result["port"] == "5061")
        #expect(result["protocol"] == "TCP")
        // "Ö" is two bytes in UTF-8: ranges count bytes, not characters.
        #expect(result.ranges[1] == 12..<16)
    }

    @Test(arguments: [true, false])
    func emptyMatchesAndEmptySubjects(jit: Bool) throws {
        let pattern = try Pattern("x*", jit: jit)
        let matcher = pattern.makeMatcher()
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        #expect(matcher.firstMatch(in: empty))
        #expect(matcher.range(ofGroup: 0) == 0..<0)
        let result = try #require(pattern.firstMatch(in: "abc"))
        #expect(result.ranges[0] == 0..<0)
        #expect(result.groups[0] == "")
    }

    @Test(arguments: [true, false])
    func caseInsensitiveMatching(jit: Bool) throws {
        let sensitive = try Pattern("firewall exceptions", jit: jit)
        let insensitive = try Pattern("firewall exceptions", options: .caseInsensitive, jit: jit)
        #expect(!sensitive.matches("Add Firewall Exceptions"))
        #expect(insensitive.matches("Add FIREWALL Exceptions"))
        let unicode = try Pattern("überprüfung", options: .caseInsensitive, jit: jit)
        #expect(unicode.matches("ÜBERPRÜFUNG der Dienste"))
    }

    @Test(arguments: [true, false])
    func invalidUTF8InTheSubjectIsSearchedNotRejected(jit: Bool) throws {
        let pattern = try Pattern(#"Return value (?<value>\d)"#, jit: jit)
        let matcher = pattern.makeMatcher()
        let subject: [UInt8] = [0xFF, 0xC3, 0x28] + Array("Action ended: Return value 3.".utf8) + [0xE2, 0x82]
        let matched = subject.withUnsafeBytes { matcher.firstMatch(in: $0) }
        #expect(matched)
        #expect(matcher.range(ofGroup: "value") == 30..<31)
        #expect(matcher.abandonedMatches == 0)
        let onlyInvalid: [UInt8] = [0xFF, 0xFE, 0xC0, 0x80]
        #expect(!onlyInvalid.withUnsafeBytes { matcher.firstMatch(in: $0) })
    }

    @Test(arguments: [true, false])
    func searchStartsAtTheGivenOffsetAndMatcherIsReusable(jit: Bool) throws {
        let pattern = try Pattern(#"\b(\d+)/(tcp|udp)\b"#, options: .caseInsensitive, jit: jit)
        let matcher = pattern.makeMatcher()
        let text = Array("5061/TCP and 3478/UDP".utf8)
        var found: [String] = []
        text.withUnsafeBytes { bytes in
            var offset = 0
            while matcher.firstMatch(in: bytes, from: offset), let whole = matcher.range(ofGroup: 0) {
                found.append(String(decoding: bytes[whole], as: UTF8.self))
                offset = whole.upperBound
            }
        }
        #expect(found == ["5061/TCP", "3478/UDP"])
        #expect(matcher.range(ofGroup: 7) == nil)
        #expect(matcher.range(ofGroup: "missing") == nil)
    }

    @Test func catastrophicBacktrackingIsAbandonedNotHung() throws {
        let pattern = try Pattern("(a+)+$", jit: false)
        let matcher = pattern.makeMatcher()
        let subject = Array(repeating: UInt8(ascii: "a"), count: 40) + [UInt8(ascii: "!")]
        let matched = subject.withUnsafeBytes { matcher.firstMatch(in: $0) }
        #expect(!matched)
        #expect(matcher.abandonedMatches == 1)
    }
}
