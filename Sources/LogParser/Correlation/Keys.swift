import Knowledge
import ScanModel

/// Identifies a finding while an input is read: the input, the role the record named, and the
/// grouping template (findings differing only in variable parts share it).
struct FindingKey: Hashable, Sendable {
    var input: Int
    var explicitRole: RoleID?
    var group: String
}

/// Groups findings over the whole scan once roles are settled.
struct GroupKey: Hashable, Sendable {
    var server: String?
    var role: RoleID
    var group: String
}

/// Identifies an exception: while reading, per input and the role its record named; in the result,
/// per role, side, protocol and ports only.
struct ExceptionKey: Hashable, Sendable {
    var input: Int?
    var explicitRole: RoleID?
    var server: String?
    var role: RoleID
    var interface: EdgeInterface?
    var transport: TransportProtocol
    var range: PortRange
    var origin: ExceptionOrigin?
    var remote: [String]?

    init(_ exception: FirewallException, input: Int?, explicitRole: RoleID?, origin: Bool = true) {
        self.input = input
        self.explicitRole = explicitRole
        server = exception.server?.lowercased()
        role = exception.role
        interface = exception.interface
        transport = exception.protocol
        range = exception.range
        // What the firewall has stays apart from what setup logged (the two are compared), and a
        // rule open to some addresses from one open to all.
        self.origin = origin || exception.origin == .firewall ? exception.origin : nil
        remote = exception.remote
    }
}
