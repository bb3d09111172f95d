import ScanModel
import Testing

@testable import Knowledge

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

    @Test func protocolsFromLogText() {
        #expect(TransportProtocol(logText: "TCP") == .tcp)
        #expect(TransportProtocol(logText: " Udp ") == .udp)
        #expect(TransportProtocol(logText: "MTLS") == .tcp)
        #expect(TransportProtocol(logText: "icmp") == nil)
    }
}
