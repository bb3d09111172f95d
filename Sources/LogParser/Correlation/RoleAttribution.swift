import Knowledge
import ScanModel

/// Decides which role a record and an input belong to — the one place that knows the precedence:
/// the role forced with `--role`, then what the record itself names (a wizard step in its context,
/// a role named in its text), then what its input says (the wizard step, the MSI product, the file
/// name, the role of most programs its exception entries name, the role most of its events name).
struct RoleAttribution {
    let resolver: RoleResolver
    /// The role forced for every input (`--role`).
    let forced: RoleID?

    init(knowledge: KnowledgeBase, forced: RoleID?) {
        resolver = RoleResolver(knowledge)
        self.forced = forced
    }

    /// The role a record's enclosing wizard step names (or the forced one).
    func stepRole(context: [String]) -> RoleID? {
        forced ?? context.lazy.compactMap { resolver.role(ofStep: $0) }.first
    }

    /// The role of an exception entry: its step's, else its input's as known so far, else the one
    /// its text names (a program or service). An input's own role wins over names in an entry: on a
    /// Standard Edition server or an Edge, "RTCSrv.exe" and "IM Conferencing" are that server's.
    /// Returns the role and whether it is the entry's own (not its input's): only a step's is; a
    /// name in the entry's text stands only until the input's role is known (it may be found later
    /// in the log: its programs, its events), and stays when the input's role stays unknown.
    func entryRole(context: [String], text: String, inputRole: RoleID?) -> (role: RoleID?, explicit: RoleID?) {
        if let step = stepRole(context: context) { return (step, step) }
        if let inputRole { return (inputRole, nil) }
        return (resolver.role(namedIn: text), nil)
    }

    /// An exception's role once its input's role is settled: the step's it was in, else its input's,
    /// else the one its own text named.
    func exceptionRole(explicit: RoleID?, provisional: RoleID, inputRole: RoleID?) -> RoleID {
        let settled = settledRole(explicit: explicit, inputRole: inputRole)
        return settled == Role.unknownID ? provisional : settled
    }

    /// The role a record names itself (nil: it belongs to its input's role).
    func explicitRole(context: [String], text: String) -> RoleID? {
        stepRole(context: context) ?? resolver.role(namedIn: text)
    }

    /// The role of an input, from what it said as it was read.
    func inputRole(
        step: RoleID?, product: RoleID?, path: String, programRoles: [RoleID: Int], eventRoles: [RoleID: Int]
    ) -> RoleID {
        func common(_ counts: [RoleID: Int]) -> RoleID? {
            counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
        }
        return forced ?? step ?? product ?? resolver.role(ofFileName: path) ?? common(programRoles) ?? common(
            eventRoles)
            ?? Role.unknownID
    }

    /// A finding's or exception's role once every input's role is settled.
    func settledRole(explicit: RoleID?, inputRole: RoleID?) -> RoleID {
        forced ?? explicit ?? inputRole ?? Role.unknownID
    }
}
