import Foundation

/// A transport protocol a firewall rule can match.
public enum TransportProtocol: String, Sendable, Codable, CaseIterable, Comparable {
    case tcp
    case udp

    /// Parses a protocol name as logs write it (`TCP`, `udp`, `Tcp/Tls`, `TLS`, `MTLS`).
    public init?(logText: String) {
        let key = logText.lowercased().trimmingCharacters(in: .whitespaces)
        if key.hasPrefix("tcp") || key == "tls" || key == "mtls" || key == "https" || key == "sip/tls" {
            self = .tcp
        } else if key.hasPrefix("udp") {
            self = .udp
        } else {
            return nil
        }
    }

    public static func < (lhs: TransportProtocol, rhs: TransportProtocol) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A validated TCP or UDP port number, 1 through 65535.
public struct Port: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: UInt16

    /// Nil unless `rawValue` is 1…65535 (port 0 is never a listening port).
    public init?(rawValue: Int) {
        guard (1...65535).contains(rawValue) else { return nil }
        self.rawValue = UInt16(rawValue)
    }

    public init?(rawValue: UInt16) { self.init(rawValue: Int(rawValue)) }

    /// Parses decimal digits only: no sign, no spaces, no trailing text, at most 5 digits.
    public init?(text: Substring) {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text)
        else { return nil }
        self.init(rawValue: value)
    }

    public var description: String { String(rawValue) }

    public static func < (lhs: Port, rhs: Port) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Why a port or range from a log was refused.
public enum PortRangeError: Error, Equatable, Sendable, CustomStringConvertible {
    case notAPort(String)
    case backwards(from: Int, to: Int)

    public var description: String {
        switch self {
        case .notAPort(let text): "\"\(text)\" is not a port number (1-65535)"
        case .backwards(let from, let to): "port range \(from)-\(to) runs backwards"
        }
    }
}

/// An inclusive range of ports, `lowerBound ≤ upperBound`.
public struct PortRange: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let lowerBound: Port
    public let upperBound: Port

    /// Nil when the bounds are out of order.
    public init?(_ lowerBound: Port, _ upperBound: Port) {
        guard lowerBound <= upperBound else { return nil }
        self.lowerBound = lowerBound
        self.upperBound = upperBound
    }

    /// A range of one port.
    public init(_ port: Port) {
        lowerBound = port
        upperBound = port
    }

    /// Parses `5061`, `50000-59999`, `50000–59999` (en dash) or `50000:59999`; refuses anything else.
    public static func parse(_ text: String) -> Result<PortRange, PortRangeError> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(omittingEmptySubsequences: false, whereSeparator: { "-–:".contains($0) })
        switch parts.count {
        case 1:
            guard let port = Port(text: parts[0]) else { return .failure(.notAPort(text)) }
            return .success(PortRange(port))
        case 2:
            let lowText = parts[0].trimmingCharacters(in: .whitespaces)
            let highText = parts[1].trimmingCharacters(in: .whitespaces)
            guard let low = Port(text: Substring(lowText)), let high = Port(text: Substring(highText)) else {
                return .failure(.notAPort(text))
            }
            guard let range = PortRange(low, high) else {
                return .failure(.backwards(from: Int(low.rawValue), to: Int(high.rawValue)))
            }
            return .success(range)
        default:
            return .failure(.notAPort(text))
        }
    }

    /// The number of ports in the range.
    public var count: Int { Int(upperBound.rawValue) - Int(lowerBound.rawValue) + 1 }

    /// `5061` or `50000-59999`.
    public var description: String { text(separator: "-") }

    /// `5061`, or the ends joined by `separator` (`50000:59999` for iptables and ufw): the one
    /// place a range is printed.
    public func text(separator: String) -> String {
        lowerBound == upperBound ? lowerBound.description : "\(lowerBound)\(separator)\(upperBound)"
    }

    /// The range of two numbers, when they make one (each a port, in order).
    public init?(from low: Int, to high: Int) {
        guard let low = Port(rawValue: low), let high = Port(rawValue: high) else { return nil }
        self.init(low, high)
    }

    public static func < (lhs: PortRange, rhs: PortRange) -> Bool {
        (lhs.lowerBound, lhs.upperBound) < (rhs.lowerBound, rhs.upperBound)
    }
}
