import Knowledge
import ScanModel

extension Analyzer {
    // MARK: - The result

    /// Groups, ranks and correlates everything found so far into the scan result.
    public func result() -> ScanResult {
        let inputs = settledServers()
        func role(input: Int, explicit: RoleID?) -> RoleID {
            attribution.settledRole(explicit: explicit, inputRole: input < inputs.count ? inputs[input].role : nil)
        }
        func server(input: Int) -> String? { input < inputs.count ? inputs[input].server : nil }
        /// Evidence names the log of its input when the input held several.
        func located(_ evidence: Evidence, input: Int) -> Evidence {
            var evidence = evidence
            // (Evidence folded from another log of a stream already names its log.)
            if evidence.log == nil, input < inputs.count, evidence.path == inputs[input].path {
                evidence.log = inputs[input].log
            }
            return evidence
        }

        // Exceptions: roles settled, duplicates merged (the first evidence kept), sorted.
        var merged: [FirewallException] = []
        var index: [ExceptionKey: Int] = [:]
        // Firewall rules a block rule overlaps, or events a current record supersedes, are listed, not carried.
        var excluded: [FirewallRuleNote] = []
        func excludes(_ pending: PendingException) -> Bool {
            guard let (status, reason) = firewallExclusion(pending, inputs: inputs) else { return false }
            var pending = pending
            pending.exception.evidence = located(pending.exception.evidence, input: pending.input)
            excluded.append(exclusionNote(pending, status, reason, server: server(input: pending.input)))
            return true
        }
        for pending in exceptions where !excludes(pending) {
            var exception = pending.exception
            exception.server = server(input: pending.input)
            exception.evidence = located(exception.evidence, input: pending.input)
            if exception.role == Role.unknownID || pending.explicitRole == nil {
                exception.role = attribution.exceptionRole(
                    explicit: pending.explicitRole, provisional: exception.role,
                    inputRole: pending.input < inputs.count ? inputs[pending.input].role : nil)
            }
            // Interfaces are the Edge's: elsewhere "(External)" is part of a name, not a side of the server.
            if exception.role != "edge" {
                exception.interface = nil
            } else if exception.interface == nil {
                exception.interface = extractor.edgeInterface(
                    role: exception.role, range: exception.range, transport: exception.protocol)
            }
            let key = ExceptionKey(exception, input: nil, explicitRole: nil, origin: false)
            if let existing = index[key] {
                if merged[existing].origin == .documented, exception.origin == .log {
                    // What a log states replaces what the documentation suggests, fields and all.
                    merged[existing] = exception
                } else if merged[existing].origin == exception.origin {
                    // A program or service one entry names is never lent to another origin's entry.
                    if merged[existing].program == nil { merged[existing].program = exception.program }
                    if merged[existing].service == nil { merged[existing].service = exception.service }
                }
            } else {
                index[key] = merged.count
                merged.append(exception)
            }
        }
        merged.sort { lhs, rhs in
            (
                lhs.server?.lowercased() ?? "", lhs.role.rawValue, lhs.interface?.rawValue ?? "", lhs.protocol.rawValue,
                lhs.portFrom,
                lhs.portTo
            )
                < (
                    rhs.server?.lowercased() ?? "", rhs.role.rawValue, rhs.interface?.rawValue ?? "",
                    rhs.protocol.rawValue, rhs.portFrom,
                    rhs.portTo
                )
        }

        // Findings from conditions over the whole scan.
        var pending = findings
        for issue in knowledge.knownIssues {
            for condition in issue.conditions {
                switch condition {
                case .activationWithoutExceptions:
                    for (input, evidence) in activationInputs
                    where !pending.contains(where: { $0.input == input && $0.knownIssue?.id == issue.id }) {
                        pending.append(conditionFinding(issue, input: input, evidence: evidence, condition: condition))
                    }
                case .rolePresent(let wanted):
                    if let input = inputs.firstIndex(where: { $0.role == wanted }) {
                        let evidence = roleEvidence[input] ?? Evidence(path: inputs[input].path, line: 1, text: nil)
                        pending.append(conditionFinding(issue, input: input, evidence: evidence, condition: condition))
                    }
                case .firewallLacksSetupException, .firewallRuleNotLogged:
                    break  // compared per server with the firewall's record (firewallComparison)
                }
            }
        }

        pending += firewallComparison(inputs: inputs, merged: merged)

        // Group repeats: count, first and last evidence.
        struct Group {
            var finding: PendingFinding
            var role: RoleID
            var server: String?
            var count: Int
            var last: Evidence
            var order: Int
            var score = 0
            var reasons: [String] = []
            var cause: Int?
        }
        var groups: [Group] = []
        var groupIndex: [GroupKey: Int] = [:]
        var groupOfKey: [FindingKey: Int] = [:]
        for (order, var finding) in pending.enumerated() {
            finding.evidence = located(finding.evidence, input: finding.input)
            finding.last = finding.last.map { located($0, input: finding.input) }
            finding.surrounding = finding.surrounding.map { located($0, input: finding.input) }
            let settledRole = role(input: finding.input, explicit: finding.explicitRole)
            let key = GroupKey(server: server(input: finding.input), role: settledRole, group: finding.group)
            if let existing = groupIndex[key] {
                groups[existing].count += finding.count
                groups[existing].last = finding.last ?? finding.evidence
            } else {
                groupIndex[key] = groups.count
                groups.append(
                    Group(
                        finding: finding, role: settledRole, server: server(input: finding.input),
                        count: finding.count,
                        last: finding.last ?? finding.evidence,
                        order: order))
            }
            groupOfKey[finding.key] = groupIndex[key]
        }
        for index in groups.indices {
            if let cause = groups[index].finding.cause, let causeGroup = groupOfKey[cause], causeGroup != index {
                groups[index].cause = causeGroup
            }
            (groups[index].score, groups[index].reasons) = score(
                groups[index].finding, role: groups[index].role, count: groups[index].count)
        }
        // Repeats raise a finding but never above its cause: a consequence stays below what it follows
        // (causes are found before their consequences, so one pass in order settles chains).
        for index in groups.indices.sorted(by: { groups[$0].order < groups[$1].order }) {
            guard let cause = groups[index].cause else { continue }
            let ceiling = groups[cause].score - 1
            if groups[index].score > ceiling {
                groups[index].reasons.append("capped at \(ceiling), below the failure it follows")
                groups[index].score = ceiling
            }
        }
        let order = groups.indices.sorted { lhs, rhs in
            if groups[lhs].score != groups[rhs].score { return groups[lhs].score > groups[rhs].score }
            return groups[lhs].order < groups[rhs].order
        }
        var rankOfGroup: [Int: Int] = [:]
        for (position, index) in order.enumerated() { rankOfGroup[index] = position + 1 }
        let ranked = order.enumerated().map { position, index in
            let group = groups[index]
            let finding = group.finding
            let issue = finding.knownIssue
            return Finding(
                rank: position + 1, severity: finding.severity, role: group.role, server: group.server,
                code: finding.code,
                event: finding.event,
                title: finding.title, count: group.count,
                evidence: (group.count > 1 ? [finding.evidence, group.last] : [finding.evidence])
                    + finding.also.map { located($0, input: finding.input) },
                context: finding.context,
                knownIssue: issue?.id, explanation: issue?.explanation, fix: issue?.fix,
                references: issue?.references ?? [],
                signature: finding.signature, group: finding.group, consequence: finding.consequence,
                causeRank: group.cause.flatMap { rankOfGroup[$0] }, score: group.score, reasons: group.reasons,
                surrounding: options.surroundingRecords > 0 ? finding.surrounding : nil)
        }
        var roles: [RoleID] = []
        for role in inputs.map(\.role) + merged.map(\.role) + ranked.map(\.role) where !roles.contains(role) {
            roles.append(role)
        }
        roles.sort()
        // (The inputs' servers are settled: one spelling each.)
        let servers = Set(inputs.compactMap(\.server)).sorted { $0.lowercased() < $1.lowercased() }
        var result = ScanResult(
            inputs: inputs, exceptions: merged, findings: ranked,
            notUnderstood: lineGroups.sorted { ($1.count, $0.first.line) < ($0.count, $1.first.line) },
            summary: ScanResult.Summary(
                errors: ranked.filter { $0.severity == .error }.count,
                warnings: ranked.filter { $0.severity == .warning }.count,
                exceptions: merged.count, roles: roles, servers: servers.isEmpty ? nil : servers))
        if !firewallNotes.isEmpty || !otherExceptions.isEmpty || firewallNotesLeftOut > 0 || !excluded.isEmpty {
            var others: [FirewallException] = []
            var seen = Set<ExceptionKey>()
            for pending in otherExceptions where !excludes(pending) {
                var exception = pending.exception
                exception.server = server(input: pending.input)
                exception.evidence = located(exception.evidence, input: pending.input)
                exception.role = pending.input < inputs.count ? inputs[pending.input].role : exception.role
                if seen.insert(ExceptionKey(exception, input: nil, explicitRole: nil)).inserted {
                    others.append(exception)
                }
            }
            others.sort { lhs, rhs in
                (lhs.server?.lowercased() ?? "", lhs.protocol.rawValue, lhs.portFrom, lhs.portTo, lhs.rule ?? "")
                    < (rhs.server?.lowercased() ?? "", rhs.protocol.rawValue, rhs.portFrom, rhs.portTo, rhs.rule ?? "")
            }
            result.otherExceptions = others
            var notes = firewallNotes.map { note, input in
                var note = note
                note.server = server(input: input)
                note.evidence = located(note.evidence, input: input)
                return note
            }
            var leftOut = firewallNotesLeftOut
            for note in excluded {
                if notes.count < ScanResult.maximumFirewallNotes { notes.append(note) } else { leftOut += 1 }
            }
            result.firewallRules = notes
            result.firewallRulesLeftOut = leftOut > 0 ? leftOut : nil
        }
        return result
    }

    /// The inputs with their servers settled: one spelling per server (a NetBIOS name shown as its
    /// qualified name), a log that states none takes the one server its folder's other logs state
    /// (when they state exactly one), and a log without a role takes its server's one role.
    func settledServers() -> [InputResult] {
        var settled = inputs
        let names = ServerNames(settled.compactMap(\.server))
        for index in settled.indices { settled[index].server = settled[index].server.map(names.canonical) }
        let folder = Self.folderOf
        var stated: [String: Set<String>] = [:]
        for input in settled {
            if let server = input.server, let folder = folder(input.path) {
                stated[folder, default: []].insert(server.lowercased())
            }
        }
        for index in settled.indices where settled[index].server == nil {
            guard let own = folder(settled[index].path) else { continue }
            // Its own folder's one server; else the one server of the folders below it (a server's
            // folder with its setup logs in a subfolder); else the nearest folder above's one.
            var lender: (String, Set<String>)?
            if let servers = stated[own] {
                lender = servers.count == 1 ? (own, servers) : nil
            } else {
                let below = stated.filter { $0.key.hasPrefix(own.isEmpty ? "" : own + "/") && $0.key != own }
                let union = below.values.reduce(into: Set<String>()) { $0.formUnion($1) }
                if union.count == 1, !own.isEmpty {
                    lender = (below.keys.sorted()[0], union)
                } else if below.isEmpty {
                    // The nearest folder above that states a server: one is lent, several lend none
                    // (`ocslog collect` puts computer.txt at the top, the logs in subfolders).
                    var folder = own
                    while let slash = folder.lastIndex(of: "/") {
                        folder = String(folder[..<slash])
                        guard let servers = stated[folder] else { continue }
                        if servers.count == 1 { lender = (folder, servers) }
                        break
                    }
                }
            }
            if let (place, servers) = lender,
                let sibling = settled.first(where: {
                    $0.server?.lowercased() == servers.first && folder($0.path) == place
                })
            {
                settled[index].server = sibling.server
            }
        }
        // A log that names no role takes the one role its server's other logs name (a transcript or
        // an MSI excerpt from the Edge is the Edge's); a server with several roles lends none.
        // A firewall record's role is only as good as its programs' (a Director and an Edge run
        // RTCSrv.exe too): the one role of its server's setup logs wins.
        var rolesOfServer: [String: Set<RoleID>] = [:]
        var setupRolesOfServer: [String: Set<RoleID>] = [:]
        for (index, input) in settled.enumerated() where input.role != Role.unknownID {
            if let server = input.server {
                rolesOfServer[server.lowercased(), default: []].insert(input.role)
                if firewallCoverage[index] == nil {
                    setupRolesOfServer[server.lowercased(), default: []].insert(input.role)
                }
            }
        }
        for index in settled.indices where firewallCoverage[index] != nil && attribution.forced == nil {
            if let server = settled[index].server, let roles = setupRolesOfServer[server.lowercased()],
                roles.count == 1, let role = roles.first
            {
                settled[index].role = role
            }
        }
        for index in settled.indices where settled[index].role == Role.unknownID {
            if let server = settled[index].server, let roles = rolesOfServer[server.lowercased()], roles.count == 1,
                let role = roles.first
            {
                settled[index].role = role
            }
        }
        return settled
    }

    /// The folder of an input's path ("" for a bare name); nil for standard input, which has none.
    private static func folderOf(_ path: String) -> String? {
        guard path != "-" else { return nil }
        return path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
    }

    /// Ranking points, in tiers that never overlap: severity (error 2000, warning 1000, info 0) first;
    /// within a tier at most +650 (first error of its step +300, known issue +200, role weight × 10,
    /// repeats up to +50) and at least −300 (a consequence).
    func score(_ finding: PendingFinding, role: RoleID, count: Int) -> (Int, [String]) {
        var score = 0
        var reasons: [String] = []
        func add(_ points: Int, _ reason: String) {
            guard points != 0 else { return }
            score += points
            reasons.append("\(points > 0 ? "+" : "")\(points) \(reason)")
        }
        switch finding.severity {
        case .error: add(2000, "error")
        case .warning: add(1000, "warning")
        case .info: reasons.append("+0 note")
        }
        if let step = finding.firstOf {
            add(300, "first error of '\(step)'")
        }
        if finding.consequence {
            add(-300, "follows an earlier failure (a rollback, or the same step or action)")
        }
        if finding.forgiven {
            add(-300, "its MSI action then ended with success (the error was forgiven)")
        }
        if let issue = finding.knownIssue { add(200, "known issue \(issue.id)") }
        if let weight = knowledge.role(role)?.weight { add(weight * 10, "role \(role) (weight \(weight))") }
        if count > 1 {
            var repeats = 0
            var value = count
            while value > 1 && repeats < 5 {
                value /= 2
                repeats += 1
            }
            add(repeats * 10, "repeated \(count) times")
        }
        return (score, reasons)
    }

    func conditionFinding(_ issue: KnownIssue, input: Int, evidence: Evidence, condition: KnownIssueCondition)
        -> PendingFinding
    {
        let severity = issue.severity
        return PendingFinding(
            severity: severity, explicitRole: issue.roles.count == 1 ? issue.roles.first : nil, input: input, code: nil,
            event: nil,
            title: issue.title, signature: condition.description, knownIssue: issue, evidence: evidence, context: [],
            consequence: false,
            group: "\(issue.id)|\(condition)")
    }
}
