/// A server role's identifier as the knowledge names it (`front-end`, `edge`, `unknown`): its JSON
/// value is the bare string.
public struct RoleID: RawRepresentable, Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: RoleID, rhs: RoleID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Logs whose role nothing stated.
    public static let unknown: RoleID = "unknown"
    /// The Edge server, the one role with two sides.
    public static let edge: RoleID = "edge"
}

/// The side of an Edge server a port is open on (its JSON value: `external`, `internal`).
public enum EdgeInterface: String, Sendable, Hashable, Comparable, Codable, CaseIterable, CustomStringConvertible {
    /// Towards the internet (the perimeter network's outer side).
    case external
    /// Towards the internal network (the Front Ends and Directors).
    case `internal`

    public var description: String { rawValue }

    public static func < (lhs: EdgeInterface, rhs: EdgeInterface) -> Bool { lhs.rawValue < rhs.rawValue }
}
