import Knowledge
import ScanModel
import TestSupport
import Testing

@testable import LogParser

/// The field reader on single entries: what each wording yields, written out (the generator in
/// RuleGenTests covers the shapes at random; these pin the edges a review found).
@Suite struct FieldReaderTests {
    let reader: FieldReader

    init() throws { reader = FieldReader(vocabulary: try ScanFixtures.knowledge.vocabulary) }

    /// "tcp 5061", "udp 50000-59999", sorted; "-" when the entry opens nothing.
    func read(_ text: String) -> String {
        let entry = reader.read(text: text)
        guard !entry.opensNothing, !entry.failed else { return "-" }
        var items: [String] = []
        for mention in entry.mentions {
            for item in mention.items {
                let ports = item.low == item.high ? "\(item.low)" : "\(item.low)-\(item.high)"
                let protocols = mention.protocols.isEmpty ? ["?"] : mention.protocols.map(\.rawValue).sorted()
                for name in protocols { items.append("\(name) \(ports)") }
            }
        }
        return items.sorted().joined(separator: ", ")
    }

    @Test(arguments: [
        ("Added firewall exception: Front-End, TCP 5061", "tcp 5061"),
        ("port 8057 (TCP)", "tcp 8057"),
        ("5065/tcp", "tcp 5065"),
        ("TCP/444", "tcp 444"),
        ("UDP ports 50000 through 59999", "udp 50000-59999"),
        ("UDP port range 50000..59999", "udp 50000-59999"),
        ("ports 5060, 5061 and 5062 over TCP", "tcp 5060, tcp 5061, tcp 5062"),
        ("port 3478 for both TCP and UDP", "tcp 3478, udp 3478"),
        ("SIP/TLS 5061", "tcp 5061"),
        ("Für die UDP-Anschlüsse 49152–65535 wurde eine Ausnahme eingerichtet", "udp 49152-65535"),
        ("Office Communications Server 2007 R2, version 3.5.6907.0, KB974571", ""),
        ("Added 5 firewall exceptions (TCP: 4, UDP: 1) in 12 ms", ""),
        ("Local Port=5061; Remote Port=1433; Protocol=TCP", "tcp 5061"),
        ("remote port 1433 over TCP", ""),
        ("Allowing outbound TCP 5060 to the gateway", "-"),
        ("Previous exception for port 5070 removed", "-"),
        (
            "rule { \"name\": \"SIP\", \"protocol\": \"TCP\", \"ports\": [5064, \"5072-5073\"] }",
            "tcp 5064, tcp 5072-5073"
        ),
        ("New-NetFirewallRule -DisplayName 'Telnet' -Protocol TCP -LocalPort 23 -Action Block", "-"),
    ])
    func readsWhatTheEntryStates(text: String, expected: String) {
        #expect(read(text) == expected, "\(text)")
    }

    /// A port cell written as prose is read as prose; a cell nobody can read stays unreadable.
    @Test func aPortCellWrittenAsProse() {
        let entry = reader.read(
            text: "",
            fields: [
                RecordField(name: "Ports", value: "port 443 (TCP), port 3478 (UDP), ports 50000-59999 (UDP)")
            ])
        let read = entry.mentions.flatMap { mention in
            mention.items.flatMap { item in mention.protocols.map { "\($0.rawValue) \(item.low)-\(item.high)" } }
        }
        #expect(read.sorted() == ["tcp 443-443", "udp 3478-3478", "udp 50000-59999"])
        #expect(entry.unreadable.isEmpty)
        let dynamic = reader.read(text: "", fields: [RecordField(name: "Port", value: "dynamic (RPC)")])
        #expect(dynamic.mentions.isEmpty && dynamic.unreadable == ["port dynamic (RPC)"])
    }

    @Test func aSideNamedAsAnInterfaceWinsOverABareOne() {
        let entry = reader.read(text: "TCP 5061 for internal servers on the external interface")
        #expect(entry.interface == .external)
        #expect(reader.read(text: "Internal interface: allowed TCP ports 5061 and 8057").interface == .internal)
    }

    @Test func aPortThatCannotBeReadIsReportedNeverGuessed() {
        #expect(reader.read(text: "Port=dynamic Protocol=TCP").unreadable == ["port dynamic"])
        #expect(reader.read(text: "Added firewall exception: TCP port <auto>").unreadable == ["port <auto>"])
        #expect(reader.read(text: "Port=dynamic Protocol=TCP").mentions.isEmpty)
    }
}
