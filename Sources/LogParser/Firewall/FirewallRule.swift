import Knowledge
import ScanModel

#if canImport(Glibc)
    import Glibc
#endif

/// One rule of the Windows Firewall as its own record states it (a registry export, netsh output,
/// a firewall event): exact fields, read by structure, never guessed.
public struct FirewallRule: Sendable, Equatable, Codable {
    public enum Action: String, Sendable, Codable { case allow, block }
    public enum Direction: String, Sendable, Codable {
        case inbound = "in"
        case outbound = "out"
    }

    /// A local port as the rule states it: a number, a range, or a keyword (`RPC`, `RPC-EPMap`,
    /// `IPHTTPS`, `Teredo`…) that names no fixed port and is never turned into one.
    public enum Port: Sendable, Hashable, CustomStringConvertible, Codable {
        case range(Int, Int)
        case keyword(String)

        /// Written as people write it: `5061`, `50000-59999`, `RPC`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            let bounds = text.split(separator: "-").map { Int($0) }
            if let low = bounds.first ?? nil, let high = bounds.last ?? nil, bounds.count <= 2 {
                self = .range(low, high)
            } else {
                self = .keyword(text)
            }
        }

        public var description: String {
            switch self {
            case .range(let low, let high): low == high ? "\(low)" : "\(low)-\(high)"
            case .keyword(let word): word
            }
        }
    }

    /// The rule's id (a registry value's name, an event's RuleId; nil where the record has none).
    public var id: String?
    public var name: String?
    /// The group (`EmbedCtxt=`, netsh `Grouping:`).
    public var group: String?
    /// nil where the record does not state it.
    public var action: Action?
    public var enabled = true
    public var direction: Direction = .inbound
    /// The IP protocol number (6 TCP, 17 UDP, 1 ICMPv4, 58 ICMPv6); nil for any protocol.
    public var protocolNumber: Int?
    /// Local ports; empty for every port.
    public var localPorts: [Port] = []
    /// Remote addresses as written (addresses, ranges, subnets, keywords); empty for any address.
    public var remoteAddresses: [String] = []
    /// Whether the record states who may connect (`netsh firewall show config` without
    /// `verbose = enable` does not): a rule whose scope is not stated opens no ruleset port.
    public var scopeStated = true
    /// Local addresses the rule is bound to (`LA4`/`LA6`, netsh `LocalIP`); empty for any.
    public var localAddresses: [String] = []
    /// The IPsec requirement (`Security=Authenticate`, netsh `Security: Authenticate…`), when the rule has one.
    public var security: String?
    /// Profiles (`Domain`, `Private`, `Public`, `Standard`); empty for all.
    public var profiles: [String] = []
    public var program: String?
    public var service: String?
    /// Values that could not be read (a protocol that is no number, a port out of range), as messages.
    public var problems: [String] = []
    /// Whether the record states the rule's ports (a firewall event's rendered text has none).
    public var portsStated = true

    public init() {}

    /// The protocol's name: `TCP`, `UDP`, `ICMPv4`, `ICMPv6`, `any` or the number.
    public var protocolName: String {
        switch protocolNumber {
        case nil: "any"
        case 6: "TCP"
        case 17: "UDP"
        case 1: "ICMPv4"
        case 58: "ICMPv6"
        case let number?: "protocol \(number)"
        }
    }

    /// How the rule is shown to people: its name, else its id, else its program.
    public var displayName: String { name ?? id ?? program ?? "(unnamed rule)" }

    /// A one-line summary: `TCP 5061, 443 from 10.1.0.0/16`.
    public var summary: String {
        var text = protocolName
        if !localPorts.isEmpty { text += " " + localPorts.map(\.description).joined(separator: ",") }
        if let program { text += " program \(program)" }
        if let service { text += " service \(service)" }
        if !remoteAddresses.isEmpty {
            var seen = Set<String>()
            text += " from " + remoteAddresses.filter { seen.insert($0.lowercased()).inserted }.joined(separator: ",")
        }
        return text
    }
}

/// A change the record states: a rule as it is (an export), or an event that added, modified or
/// deleted one at a time.
public struct FirewallChange: Sendable, Equatable, Codable {
    /// `reset`: the firewall was reset or all its rules deleted (every rule before it is gone).
    public enum Kind: String, Sendable, Codable { case snapshot, added, modified, deleted, reset }
    public var kind: Kind
    public var rule: FirewallRule
    /// When the event was logged (ISO 8601 as the export states it), for applying events in order.
    public var time: String?
    /// The event's record number (`EventRecordID`), which orders events logged in the same instant.
    public var sequence: Int?

    public init(kind: Kind, rule: FirewallRule, time: String? = nil, sequence: Int? = nil) {
        self.kind = kind
        self.rule = rule
        self.time = time
        self.sequence = sequence
    }
}

// MARK: - Values

extension FirewallRule {
    /// Reads a local-port list (`80,443`, `5000-5100`, `RPC`, `Any`, `*`): numbers and ranges
    /// within 1–65535, keywords as keywords; a value that is neither is a problem.
    static func ports(_ text: String, anyWords: Set<String>) -> (ports: [Port], problems: [String]) {
        var ports: [Port] = []
        var problems: [String] = []
        for item in text.split(whereSeparator: { $0 == "," || $0 == " " }) {
            let value = String(item)
            if anyWords.contains(FirewallVocabulary.normalized(value)) { return ([], problems) }
            let bounds = value.split(separator: "-", omittingEmptySubsequences: false)
            if bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                bounds.count <= 2
            {
                // Every digit counts: "0005061" is no port 506 (a number of more than five digits is out of range).
                func number(_ digits: Substring) -> Int? {
                    let significant = digits.drop { $0 == "0" }
                    return significant.count > 5 ? nil : Int(significant.isEmpty ? "0" : String(significant))
                }
                guard bounds.allSatisfy({ $0.first != "0" }) else {
                    problems.append("port value '\(value.prefix(40))' has leading zeros")
                    continue
                }
                guard let low = number(bounds[0]), let high = number(bounds[bounds.count - 1]),
                    (1...65535).contains(low), (1...65535).contains(high)
                else {
                    problems.append("port \(value) is outside 1-65535")
                    continue
                }
                guard low <= high else {
                    problems.append("port range \(value) runs backwards")
                    continue
                }
                ports.append(.range(low, high))
            } else if value.first?.isLetter == true, value.count <= 40,
                value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            {
                ports.append(.keyword(value))
            } else {
                problems.append("port value '\(value.prefix(40))' could not be read")
            }
        }
        return (ports, problems)
    }

    /// A protocol value: a number (`6`), a name (`TCP`, `UDP`, `ICMPv4`, `ICMPv6`), or any.
    static func protocolNumber(_ text: String, anyWords: Set<String>) -> (number: Int?, problem: String?) {
        let value = text.trimmingSpaces()
        if value.isEmpty || anyWords.contains(FirewallVocabulary.normalized(value)) { return (nil, nil) }
        if let number = Int(value), (0...255).contains(number) { return (number == 256 ? nil : number, nil) }
        if value == "256" { return (nil, nil) }  // events write "any" as 256
        switch value.lowercased() {
        case "tcp": return (6, nil)
        case "udp": return (17, nil)
        case "icmpv4", "icmp": return (1, nil)
        case "icmpv6": return (58, nil)
        case "gre": return (47, nil)
        default: return (nil, "protocol '\(value.prefix(40))' could not be read")
        }
    }
}

/// A rule's remote-address scope, sorted out: concrete prefixes (canonical `a.b.c.d/len`, ranges
/// broken into prefixes), keywords (`LocalSubnet`, `DNS`, …) that name no fixed addresses, and
/// values that could not be read.
public struct RemoteScope: Sendable, Equatable {
    public var prefixes: [String] = []
    public var keywords: [String] = []
    public var invalid: [String] = []

    /// Any address: nothing stated, or `Any` / `*`.
    public var isAny: Bool { prefixes.isEmpty && keywords.isEmpty && invalid.isEmpty }

    /// The most addresses read of one rule (a longer list is one invalid entry: the rule is not carried).
    public static let maximumAddresses = 1000

    public init(_ items: [String], anyWords: Set<String>) {
        var seen = Set<String>()
        var count = 0
        for item in items {
            for part in item.split(separator: ",") {
                count += 1
                guard count <= Self.maximumAddresses else {
                    if invalid.last != "more than \(Self.maximumAddresses) addresses" {
                        invalid.append("more than \(Self.maximumAddresses) addresses")
                    }
                    break
                }
                let value = String(part).trimmingSpaces()
                if value.isEmpty || anyWords.contains(FirewallVocabulary.normalized(value)) { continue }
                if let read = Self.prefixes(value) {
                    for prefix in read where seen.insert(prefix).inserted { prefixes.append(prefix) }
                } else if value.first?.isLetter == true, value.count <= 40,
                    value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
                {
                    if seen.insert(value).inserted { keywords.append(value) }
                } else {
                    invalid.append(String(value.prefix(60)))
                }
            }
        }
        // "*" next to an address means nothing more: an address list with any in it is any.
        if items.contains(where: { anyWords.contains(FirewallVocabulary.normalized($0)) }) && prefixes.isEmpty
            && keywords.isEmpty
        {
            invalid.removeAll()
        }
    }

    /// An address, a prefix (`/24`), a subnet with a mask (`/255.255.255.0`) or a range (`A-B`)
    /// as canonical prefixes; nil when it is none of these.
    static func prefixes(_ text: String) -> [String]? {
        if let dash = text.firstIndex(of: "-"), !text.contains("/") {
            guard let low = Address(String(text[..<dash])),
                let high = Address(String(text[text.index(after: dash)...])),
                low.isV6 == high.isV6, low.value <= high.value
            else { return nil }
            return Address.cover(low: low.value, high: high.value, v6: low.isV6)
        }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = Address(String(parts[0])) else { return nil }
        let bits = address.isV6 ? 128 : 32
        var length = bits
        if parts.count == 2 {
            if let number = Int(parts[1]), parts[1].allSatisfy(\.isNumber), (0...bits).contains(number) {
                length = number
            } else if !address.isV6, let mask = Address(String(parts[1])), !mask.isV6,
                let maskLength = Address.maskLength(UInt32(truncatingIfNeeded: mask.value))
            {
                length = maskLength
            } else {
                return nil
            }
        }
        let hostBits = bits - length
        let network: UInt128 = hostBits == 128 ? 0 : (address.value >> UInt128(hostBits)) << UInt128(hostBits)
        return [Address.text(network, v6: address.isV6) + (length == bits ? "" : "/\(length)")]
    }
}

/// An IPv4 or IPv6 address as a number (inet_pton), and back.
struct Address {
    var value: UInt128
    var isV6: Bool

    init?(_ text: String) {
        let trimmed = text.trimmingSpaces()
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, trimmed, &v4) == 1 {
            value = UInt128(UInt32(bigEndian: v4.s_addr))
            isV6 = false
        } else if inet_pton(AF_INET6, trimmed, &v6) == 1 {
            var number: UInt128 = 0
            withUnsafeBytes(of: &v6) { bytes in for byte in bytes { number = number << 8 | UInt128(byte) } }
            value = number
            isV6 = true
        } else {
            return nil
        }
    }

    /// The prefix length of a contiguous mask (`255.255.255.0` → 24); nil for a mask with holes.
    static func maskLength(_ mask: UInt32) -> Int? {
        let length = mask.nonzeroBitCount
        let contiguous: UInt32 = length == 0 ? 0 : UInt32.max << UInt32(32 - length)
        return mask == contiguous ? length : nil
    }

    static func text(_ value: UInt128, v6: Bool) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        if v6 {
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { bytes in
                for index in 0..<16 { bytes[index] = UInt8(truncatingIfNeeded: value >> UInt128((15 - index) * 8)) }
            }
            inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        } else {
            var address = in_addr(s_addr: UInt32(truncatingIfNeeded: value).bigEndian)
            inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The fewest prefixes that cover exactly `low…high` (at most 64 of them; a wider mess is refused).
    static func cover(low: UInt128, high: UInt128, v6: Bool) -> [String]? {
        let bits = v6 ? 128 : 32
        func span(_ size: Int) -> UInt128 { size >= 128 ? UInt128.max : (UInt128(1) << UInt128(size)) - 1 }
        var result: [String] = []
        var start = low
        while true {
            var size = min(bits, start == 0 ? bits : start.trailingZeroBitCount)
            while size > 0 {
                let (last, overflow) = start.addingReportingOverflow(span(size))
                if !overflow, last <= high { break }
                size -= 1
            }
            let length = bits - size
            result.append(text(start, v6: v6) + (length == bits ? "" : "/\(length)"))
            guard result.count <= 64 else { return nil }
            let last = start &+ span(size)
            if last >= high { return result }
            start = last + 1
        }
    }
}
