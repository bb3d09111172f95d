import Knowledge

/// A set of ports kept as sorted, disjoint, non-adjacent ranges: what a firewall rule opens.
public struct PortSet: Sendable, Hashable, CustomStringConvertible {
    /// The ranges, sorted, with overlapping and adjacent ranges merged.
    public private(set) var ranges: [PortRange] = []

    public init() {}

    public init(_ ranges: some Sequence<PortRange>) {
        for range in ranges { insert(range) }
    }

    /// Adds a range, merging it with any range it overlaps or touches.
    public mutating func insert(_ range: PortRange) {
        var low = Int(range.lowerBound.rawValue)
        var high = Int(range.upperBound.rawValue)
        var kept: [PortRange] = []
        kept.reserveCapacity(ranges.count + 1)
        var inserted = false
        for existing in ranges {
            let existingLow = Int(existing.lowerBound.rawValue)
            let existingHigh = Int(existing.upperBound.rawValue)
            if existingHigh + 1 < low {
                kept.append(existing)
            } else if high + 1 < existingLow {
                if !inserted {
                    kept.append(Self.range(low, high))
                    inserted = true
                }
                kept.append(existing)
            } else {
                low = min(low, existingLow)
                high = max(high, existingHigh)
            }
        }
        if !inserted { kept.append(Self.range(low, high)) }
        ranges = kept
    }

    /// Whether `port` is in the set.
    public func contains(_ port: Port) -> Bool {
        ranges.contains { $0.lowerBound <= port && port <= $0.upperBound }
    }

    /// The number of ports in the set.
    public var count: Int { ranges.reduce(0) { $0 + $1.count } }

    public var isEmpty: Bool { ranges.isEmpty }

    /// `80, 443, 5060-5065`.
    public var description: String { ranges.map(\.description).joined(separator: ", ") }

    private static func range(_ low: Int, _ high: Int) -> PortRange {
        // Both bounds come from valid ports, so they are valid ports and ordered.
        guard let lower = Port(rawValue: low), let upper = Port(rawValue: high), let range = PortRange(lower, upper)
        else {
            preconditionFailure("merged port bounds \(low)-\(high) left 1-65535")
        }
        return range
    }
}
