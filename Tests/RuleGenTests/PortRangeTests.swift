import Knowledge
import Testing

@testable import RuleGen

@Suite struct PortRangeTests {
    @Test(arguments: [
        ("5061", "5061"), ("50000-59999", "50000-59999"), ("50000–59999", "50000-59999"), (" 1 : 65535 ", "1-65535"),
        ("443-443", "443"),
    ])
    func parsesValidPortsAndRanges(text: String, expected: String) throws {
        let range = try PortRange.parse(text).get()
        #expect(range.description == expected)
    }

    @Test(arguments: [
        "0", "65536", "70000", "-1", "5061;", "5061; flush ruleset", "", "50 61", "0x1F", "+80", "1-2-3", "١٢٣",
    ])
    func refusesAnythingButAPort(text: String) {
        guard case .failure(.notAPort) = PortRange.parse(text) else {
            Issue.record("\(text.debugDescription) was accepted")
            return
        }
    }

    @Test func refusesBackwardsRanges() {
        #expect(PortRange.parse("59999-50000") == .failure(.backwards(from: 59999, to: 50000)))
    }

    @Test func portSetMergesOverlappingAndAdjacentRanges() throws {
        let ranges = try ["5061", "5060", "443", "50000-50010", "50005-50020", "50021", "80", "5062-5065", "5061"].map {
            try PortRange.parse($0).get()
        }
        // Every insertion order gives the same set.
        for rotation in 0..<ranges.count {
            let rotated = Array(ranges[rotation...] + ranges[..<rotation])
            let set = PortSet(rotated)
            #expect(set.description == "80, 443, 5060-5065, 50000-50021", "rotation \(rotation)")
            #expect(PortSet(rotated.reversed()) == set)
        }
        let set = PortSet(ranges)
        #expect(set.count == 1 + 1 + 6 + 22)
        #expect(set.contains(try #require(Port(rawValue: 5063))))
        #expect(!set.contains(try #require(Port(rawValue: 5066))))
    }

    @Test func protocolsFromLogText() {
        #expect(TransportProtocol(logText: "TCP") == .tcp)
        #expect(TransportProtocol(logText: " Udp ") == .udp)
        #expect(TransportProtocol(logText: "MTLS") == .tcp)
        #expect(TransportProtocol(logText: "icmp") == nil)
    }
}
