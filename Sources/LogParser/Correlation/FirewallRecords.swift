import Foundation
import Knowledge
import ScanModel

/// A block rule of a firewall record: the allow rules it overlaps are not carried.
struct FirewallBlock: Sendable {
    /// 6 or 17; nil for any protocol.
    var protocolNumber: Int?
    /// Port ranges; empty for every port.
    var ranges: [ClosedRange<Int>]
    var rule: String
    var evidence: Evidence
    /// The addresses it names (canonical prefixes or keywords; nil for any).
    var remote: [String]? = nil
    var local: [String]? = nil

    /// Whether it blocks any of an exception's ports: the same protocol (or any), overlapping
    /// ports, and addresses that are not provably apart (a keyword may be anything).
    func overlaps(_ exception: FirewallException) -> Bool {
        let number = exception.protocol == .tcp ? 6 : 17
        guard protocolNumber == nil || protocolNumber == number else { return false }
        guard
            ranges.isEmpty
                || ranges.contains(where: { $0.lowerBound <= exception.portTo && exception.portFrom <= $0.upperBound })
        else { return false }
        return Self.mayMeet(remote, exception.remote) && Self.mayMeet(local, exception.local)
    }

    /// Whether two address lists may share an address: false only when both are concrete prefixes
    /// and no prefix of one meets a prefix of the other.
    static func mayMeet(_ lhs: [String]?, _ rhs: [String]?) -> Bool {
        guard let lhs, let rhs else { return true }
        let left = lhs.compactMap(Prefix.init)
        let right = rhs.compactMap(Prefix.init)
        guard left.count == lhs.count, right.count == rhs.count else { return true }
        return left.contains { a in right.contains { b in a.meets(b) } }
    }

    /// A canonical prefix (`192.0.2.0/24`, `2001:db8::/32`, an address alone).
    struct Prefix {
        var address: Address
        var length: Int

        init?(_ text: String) {
            let parts = text.split(separator: "/")
            guard let first = parts.first, let address = Address(String(first)) else { return nil }
            self.address = address
            let bits = address.isV6 ? 128 : 32
            length = min(bits, parts.count > 1 ? Int(parts[1]) ?? bits : bits)
        }

        /// Whether the two share an address: the same family, and the shorter one holds the longer's network.
        func meets(_ other: Prefix) -> Bool {
            guard address.isV6 == other.address.isV6 else { return false }
            let bits = address.isV6 ? 128 : 32
            let shift = bits - min(length, other.length)
            guard shift < 128 else { return true }
            return address.value >> UInt128(shift) == other.address.value >> UInt128(shift)
        }
    }
}

/// What a firewall record allows on its server, as the setup-versus-firewall check reads it.
struct FirewallCoverage: Sendable {
    /// 6 or 17; nil for any protocol.
    var protocolNumber: Int?
    /// Port ranges; empty with `allPorts` for every port.
    var ranges: [ClosedRange<Int>]
    var allPorts: Bool
    /// Whether the record stated the ports at all (a firewall event's text has none).
    var portsKnown: Bool
    var program: String?
    var rule: String
    var evidence: Evidence

    /// Whether it lets setup's exception through.
    func covers(_ exception: FirewallException) -> Bool {
        let number = exception.protocol == .tcp ? 6 : 17
        guard protocolNumber == nil || protocolNumber == number else { return false }
        if let program, let wanted = exception.program, Self.baseName(program) != Self.baseName(wanted) {
            return false
        }
        guard portsKnown else {
            // Only the program is known: it covers the program's exceptions.
            guard let program, let wanted = exception.program else { return false }
            return Self.baseName(program) == Self.baseName(wanted)
        }
        if allPorts { return true }
        return ranges.contains { $0.lowerBound <= exception.portFrom && exception.portTo <= $0.upperBound }
    }

    static func baseName(_ path: String) -> String {
        (path.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last.map(String.init) ?? path).lowercased()
    }
}

extension Analyzer {
    // MARK: - The firewall's own record

    /// Reads a firewall record's rule: a snapshot now, a rule-change event into the log's table
    /// (the latest change of each rule wins, whatever order the export lists them in).
    func readFirewall(
        _ change: FirewallChange, _ draft: RecordDraft, _ state: inout InputState,
        _ onEvent: (ScanEvent) -> Void = { _ in }
    ) {
        state.isFirewallRecord = true
        let evidence = Evidence(path: draft.path, line: draft.line, text: Bytes.string(draft.buffer))
        guard change.kind != .snapshot else {
            firewallSnapshotInputs.insert(state.index)
            openRule(change.rule, deleted: false, evidence: evidence, &state, onEvent)
            return
        }
        firewallEventInputs.insert(state.index)
        // Events are ordered by time, then by record number; an export listed newest first breaks
        // ties the other way (Get-WinEvent's seconds are whole).
        let time = change.time.flatMap(Self.timeKey)
        if let time, let last = state.lastEventTime, time != last { state.eventsDescending = time < last }
        if let time { state.lastEventTime = time }
        let key = (time ?? "", change.sequence ?? 0)
        if change.kind == .reset {
            // Every rule changed before a reset is gone.
            if state.firewallReset.map({ key > ($0.time, $0.sequence) }) ?? true {
                state.firewallReset = (key.0, key.1, evidence)
            }
            return
        }
        let id = change.rule.id ?? change.rule.name ?? "line \(draft.line)"
        state.firewallOrder += 1
        if let existing = state.firewallTable[id] {
            let before = (existing.time ?? "", existing.sequence)
            let older =
                key.0.isEmpty || before.0.isEmpty
                ? false : key < before || (key == before && state.eventsDescending)
            if older { return }  // an older change of a rule listed after a newer one
        }
        var merged = change
        if change.kind == .modified, let existing = state.firewallTable[id], existing.change.kind != .deleted,
            change.rule.name == nil
        {
            merged.rule.name = existing.change.rule.name
        }
        let order = state.firewallTable[id]?.order ?? state.firewallOrder
        state.firewallTable[id] = (merged, evidence, order, time, change.sequence ?? 0)
    }

    /// Applies a log's rule-change events once it ends: what is left added or modified is open.
    func finishFirewallEvents(_ state: inout InputState) {
        guard !state.firewallTable.isEmpty else { return }
        let entries = state.firewallTable.values.sorted { $0.order < $1.order }
        state.firewallTable.removeAll()
        let reset = state.firewallReset
        state.firewallReset = nil
        for entry in entries {
            var rule = entry.change.rule
            var deleted = entry.change.kind == .deleted
            if let reset, !(entry.time ?? "").isEmpty, (entry.time ?? "", entry.sequence) < (reset.time, reset.sequence)
            {
                // (Deleted by the reset: the reason names it.)
                deleted = true
                rule.name = rule.name.map { "\($0) (before the reset at line \(reset.evidence.line))" }
            }
            openRule(rule, deleted: deleted, evidence: entry.evidence, &state)
        }
    }

    /// A sortable key of an event's time: ISO 8601 as is; `M/D/YYYY h:mm:ss AM` and `D.M.YYYY HH:mm:ss`
    /// turned into it; nil when it is none of these.
    static func timeKey(_ text: String) -> String? {
        let trimmed = text.trimmingSpaces()
        if trimmed.count >= 19, trimmed.prefix(4).allSatisfy(\.isNumber), trimmed.dropFirst(4).first == "-" {
            return String(trimmed.prefix(26)).replacingOccurrences(of: " ", with: "T")
        }
        let parts = trimmed.split(whereSeparator: { $0 == " " })
        guard parts.count >= 2 else { return nil }
        let separator: Character = parts[0].contains("/") ? "/" : "."
        let date = parts[0].split(separator: separator).compactMap { Int($0) }
        let clock = parts[1].split(separator: ":").compactMap { Int($0) }
        guard date.count == 3, clock.count >= 2 else { return nil }
        var (day, month) = separator == "/" ? (date[1], date[0]) : (date[0], date[1])
        if separator == "/", month > 12 { (day, month) = (month, day) }
        var hour = clock[0]
        if parts.count >= 3 {
            let marker = parts[2].uppercased()
            if marker == "PM", hour < 12 { hour += 12 }
            if marker == "AM", hour == 12 { hour = 0 }
        }
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(date[2])-\(two(month))-\(two(day))T\(two(hour)):\(two(clock[1])):\(two(clock.count > 2 ? clock[2] : 0))"
    }

    /// A firewall event's rule from its rendered message (a text export): the labels of the
    /// message (knowledge) and the values between them. The message states no ports.
    func ruleFromMessage(_ text: String, time: String?) -> FirewallRule {
        let lowered = text.lowercased()
        var marks: [(start: String.Index, end: String.Index, label: String)] = []
        for (word, label) in firewallWords.messageLabels {
            var from = lowered.startIndex
            while let found = lowered.range(of: word + ":", range: from..<lowered.endIndex) {
                from = found.upperBound
                if found.lowerBound != lowered.startIndex {
                    let before = lowered[lowered.index(before: found.lowerBound)]
                    guard before == " " || before == "\t" else { continue }
                }
                if marks.contains(where: { $0.start <= found.lowerBound && found.lowerBound < $0.end }) { continue }
                marks.append((found.lowerBound, found.upperBound, label))
            }
        }
        marks.sort { $0.start < $1.start }
        var values: [String: String] = [:]
        for (index, mark) in marks.enumerated() {
            let end = index + 1 < marks.count ? marks[index + 1].start : text.endIndex
            let value = String(text[mark.end..<end]).trimmingSpaces()
            if values[mark.label] == nil { values[mark.label] = value }
        }
        var rule = FirewallRule()
        rule.portsStated = false
        rule.id = values["rule-id"]
        rule.name = values["rule-name"]
        if let path = values["application-path"], !path.isEmpty, !firewallWords.isAny(path) { rule.program = path }
        if let service = values["service-name"], !service.isEmpty, !firewallWords.isAny(service) {
            rule.service = service
        }
        if let active = values["active"] { rule.enabled = firewallWords.value(active) != "no" }
        switch values["direction"].flatMap(firewallWords.value) {
        case "out": rule.direction = .outbound
        case "in": rule.direction = .inbound
        default: if values["direction"] != nil { rule.problems.append("direction could not be read") }
        }
        switch values["action"].flatMap(firewallWords.value) {
        case "allow": rule.action = .allow
        case "block": rule.action = .block
        default: break
        }
        if let text = values["protocol"] {
            let (number, problem) = FirewallRule.protocolNumber(text, anyWords: firewallWords.anyWords)
            rule.protocolNumber = number
            if let problem { rule.problems.append(problem) }
        }
        if let profiles = values["profiles"], !firewallWords.isAny(profiles) {
            rule.profiles = profiles.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        }
        return rule
    }

    /// Turns a rule into what it opens: OCS's open ports become exceptions (origin `firewall`),
    /// other products' open ports `otherExceptions`, and everything no ruleset carries a note.
    /// (`onEvent` hears a snapshot's exceptions as they are read; rule-change events are applied
    /// when their log ends, and their exceptions are in the result.)
    private func openRule(
        _ rule: FirewallRule, deleted: Bool, evidence: Evidence, _ state: inout InputState,
        _ onEvent: (ScanEvent) -> Void = { _ in }
    ) {
        let name = rule.displayName
        func note(_ status: String, _ reason: String) {
            guard firewallNotes.count < ScanResult.maximumFirewallNotes else {
                firewallNotesLeftOut += 1
                return
            }
            firewallNotes.append(
                (
                    FirewallRuleNote(
                        server: nil, rule: name, summary: rule.summary, status: status, reason: reason,
                        evidence: Evidence(path: evidence.path, line: evidence.line)), state.index
                ))
        }
        // An address that is none (a broken range, a bad mask) makes the rule unreadable, as Windows
        // itself ignores a rule it cannot parse.
        var rule = rule
        rule.problems += RemoteScope(rule.remoteAddresses, anyWords: firewallWords.anyWords).invalid.map {
            "remote address '\($0)' could not be read"
        }
        rule.problems += RemoteScope(rule.localAddresses, anyWords: firewallWords.anyWords).invalid.map {
            "local address '\($0)' could not be read"
        }
        if !rule.problems.isEmpty {
            let reason = rule.problems.joined(separator: "; ")
            note("not-read", reason)
            let title = "Firewall rule not read: \(reason)"
            let signature = "firewall-rule-not-read"
            store(
                PendingFinding(
                    severity: .warning, explicitRole: nil, input: state.index, code: nil, event: nil, title: title,
                    signature: signature, knownIssue: nil, evidence: evidence, context: [], consequence: false,
                    group: "\(signature)|\(Template.mask(reason))"))
            state.unreadableEntries += 1
            return
        }
        if deleted { return note("deleted", "a later event deleted it") }
        if !rule.enabled { return note("disabled", "the rule is not enabled") }
        if rule.direction == .outbound { return note("outbound", "an outbound rule opens no port to clients") }
        guard let action = rule.action else { return note("not-read", "the record states no action") }
        if action == .block {
            // Block rules win over allow rules on Windows: an allow rule they overlap is taken out
            // when the result is made (whoever the block names, the allow is not carried).
            // (A port keyword names ports that are not fixed: such a block is taken to block every port.)
            var ranges: [ClosedRange<Int>] = []
            for port in rule.localPorts {
                switch port {
                case .range(let low, let high): ranges.append(low...high)
                case .keyword: ranges = []
                }
                if case .keyword = port { break }
            }
            let remoteScope = RemoteScope(rule.remoteAddresses, anyWords: firewallWords.anyWords)
            let localScope = RemoteScope(rule.localAddresses, anyWords: firewallWords.anyWords)
            firewallBlocks[state.index, default: []].append(
                FirewallBlock(
                    protocolNumber: rule.protocolNumber, ranges: ranges, rule: name,
                    evidence: Evidence(path: evidence.path, line: evidence.line),
                    remote: remoteScope.isAny ? nil : remoteScope.prefixes + remoteScope.keywords + remoteScope.invalid,
                    local: localScope.isAny ? nil : localScope.prefixes + localScope.keywords + localScope.invalid))
            return note("block", "a block rule")
        }

        let programRole = rule.program.flatMap { resolver.role(ofProgram: $0) }
        let namedRole = resolver.role(
            namedIn: [rule.name, rule.group, rule.service].compactMap { $0 }.joined(separator: " "))
        // OCS's: its program (knowledge), its service's name, or OCS's product names in the rule's
        // name, group or program path. A role's name alone ("Application Server") is no proof.
        let serviceRole = rule.service.flatMap { resolver.role(namedIn: $0) }
        // Else, a rule that is not Windows' own and opens a port an OCS role documents (an
        // administrator's "SIP 5061" rule) is taken for OCS's: the port is open on the server either
        // way, and it is the port the firewall in front must pass.
        let opensDocumentedPort = rule.localPorts.contains { port in
            guard case .range(let low, let high) = port else { return false }
            return knowledge.ports.contains { documented in
                Int(documented.range.lowerBound.rawValue) <= low && high <= Int(documented.range.upperBound.rawValue)
                    && documented.protocols.contains {
                        rule.protocolNumber == nil || rule.protocolNumber == ($0 == .tcp ? 6 : 17)
                    }
            }
        }
        let isOCS =
            programRole != nil || serviceRole != nil
            || firewallWords.namesOwner([rule.name, rule.group, rule.program])
            || (opensDocumentedPort && !firewallWords.isWindowsRule(name: rule.name, group: rule.group))
        let role = namedRole ?? programRole ?? serviceRole ?? Role.unknownID
        // The record's role: what its OCS rules name ("Access Edge"), else their programs'.
        if isOCS, role != Role.unknownID { state.programRoles[role, default: 0] += 1 }
        let scope = RemoteScope(rule.remoteAddresses, anyWords: firewallWords.anyWords)
        // "not-stated" names no addresses: a port of a record that does not say who may connect is
        // listed but opens no ruleset port.
        let remote = !rule.scopeStated ? ["not-stated"] : scope.isAny ? nil : scope.prefixes + scope.keywords
        let localScope = RemoteScope(rule.localAddresses, anyWords: firewallWords.anyWords)
        let local = localScope.isAny ? nil : localScope.prefixes + localScope.keywords
        var ranges: [ClosedRange<Int>] = []
        var keywords: [String] = []
        for port in rule.localPorts {
            switch port {
            case .range(let low, let high): ranges.append(low...high)
            case .keyword(let word): keywords.append(word)
            }
        }
        let allPorts = rule.portsStated && rule.localPorts.isEmpty
        firewallCoverage[state.index, default: []].append(
            FirewallCoverage(
                protocolNumber: rule.protocolNumber, ranges: ranges, allPorts: allPorts, portsKnown: rule.portsStated,
                program: rule.program, rule: name, evidence: Evidence(path: evidence.path, line: evidence.line)))

        guard isOCS else {
            note("other", "not an OCS rule (Windows' own or another product's)")
            if rule.protocolNumber == 6 || rule.protocolNumber == 17 {
                for range in ranges {
                    for made in exception(
                        rule, range: range, role: role, remote: remote, local: local, evidence: evidence)
                    {
                        otherExceptions.append(PendingException(exception: made, explicitRole: nil, input: state.index))
                    }
                }
            }
            return
        }
        guard rule.protocolNumber == nil || rule.protocolNumber == 6 || rule.protocolNumber == 17 else {
            return note("not-carried", "\(rule.protocolName) is not a TCP or UDP port")
        }
        if !keywords.isEmpty {
            note("not-carried", "port \(keywords.joined(separator: ", ")) names no fixed port")
        }
        if ranges.isEmpty, keywords.isEmpty {
            if !rule.portsStated {
                note("not-carried", "the event's text states no ports (export the events as XML for them)")
            } else {
                note("not-carried", "the rule allows every port\(rule.program.map { " of \($0)" } ?? "")")
            }
            // A program without a port: its documented ports, kept apart (origin documented).
            if let program = rule.program {
                for port in extractor.documentedPorts(role: programRole ?? namedRole, program: program) {
                    for transport in port.protocols
                    where rule.protocolNumber == nil || rule.protocolNumber == (transport == .tcp ? 6 : 17) {
                        var documented = FirewallException(
                            role: role, protocol: transport, range: port.range, interface: port.interface,
                            program: program,
                            service: rule.service, origin: .documented,
                            evidence: Evidence(path: evidence.path, line: evidence.line),
                            note: "the firewall allows the program on any port; documented ports of \(role), "
                                + "in rulesets only with --documented")
                        documented.rule = rule.name
                        documented.remote = remote
                        store(PendingException(exception: documented, explicitRole: namedRole, input: state.index))
                    }
                }
            }
            return
        }
        for range in ranges {
            let made = exception(rule, range: range, role: role, remote: remote, local: local, evidence: evidence)
            for item in made where store(PendingException(exception: item, explicitRole: namedRole, input: state.index))
            {
                state.exceptionCount += 1
                onEvent(.exception(item, signature: "firewall-rule"))
            }
        }
    }

    /// The exceptions of one port range of an open rule (both protocols for a rule of any protocol).
    private func exception(
        _ rule: FirewallRule, range: ClosedRange<Int>, role: RoleID, remote: [String]?, local: [String]?,
        evidence: Evidence
    ) -> [FirewallException] {
        // (The rule parser keeps only ports 1-65535 in order: a range that is not one opens nothing.)
        guard let ports = PortRange(from: range.lowerBound, to: range.upperBound) else { return [] }
        let transports: [TransportProtocol] =
            switch rule.protocolNumber {
            case 6?: [.tcp]
            case 17?: [.udp]
            default: [.tcp, .udp]
            }
        return transports.map { transport in
            var made = FirewallException(
                role: role, protocol: transport, range: ports, interface: nil,
                program: rule.program, service: rule.service, origin: .firewall,
                evidence: Evidence(path: evidence.path, line: evidence.line),
                note: [
                    rule.protocolNumber == nil ? "the rule allows any protocol" : nil,
                    rule.security.map { "the rule requires IPsec (\($0)): clients without it are refused" },
                ].compactMap { $0 }.joined(separator: "; ").nilIfEmpty)
            made.rule = rule.name
            made.profiles = rule.profiles.isEmpty ? nil : rule.profiles
            made.remote = remote
            made.local = local
            return made
        }
    }
}

extension Analyzer {
    /// The server a firewall check groups an input under: its stated name, else its folder (nil
    /// for standard input without a name, which is grouped with nothing).
    static func firewallServerKey(_ input: Int, _ inputs: [InputResult]) -> String? {
        guard input < inputs.count else { return nil }
        if let server = inputs[input].server { return "server:" + server.lowercased() }
        let path = inputs[input].path
        guard path != "-" else { return nil }
        return "folder:" + (path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "")
    }

    /// Why a firewall-origin exception is not carried after all, if it is not: a block rule of its
    /// record overlaps it (block rules win on Windows), or it comes from rule-change events of a
    /// server whose current rules (an export, netsh output) were read too — the events are history.
    func firewallExclusion(_ pending: PendingException, inputs: [InputResult]) -> (String, String)? {
        guard pending.exception.origin == .firewall else { return nil }
        if let block = firewallBlocks[pending.input]?.first(where: { $0.overlaps(pending.exception) }) {
            return (
                "blocked", "the block rule '\(block.rule)' (line \(block.evidence.line)) overlaps it; block rules win"
            )
        }
        if firewallEventInputs.contains(pending.input), let server = Self.firewallServerKey(pending.input, inputs),
            firewallSnapshotInputs.contains(where: { Self.firewallServerKey($0, inputs) == server })
        {
            return ("superseded", "from rule-change events; the server's current firewall record is read too")
        }
        return nil
    }

    /// The note for an exception `firewallExclusion` took out.
    func exclusionNote(_ pending: PendingException, _ status: String, _ reason: String, server: String?)
        -> FirewallRuleNote
    {
        let exception = pending.exception
        let ports = exception.ports
        return FirewallRuleNote(
            server: server, rule: exception.rule ?? "(unnamed rule)",
            summary: "\(exception.protocol.rawValue.uppercased()) \(ports)", status: status, reason: reason,
            evidence: exception.evidence)
    }

    /// Setup checked against the firewall, per server (a stated computer name, else a folder): a
    /// warning for each exception setup logged that the server's firewall record does not allow,
    /// and a note for each OCS program rule of the firewall that no setup log of the server names.
    func firewallComparison(inputs: [InputResult], merged: [FirewallException]) -> [PendingFinding] {
        guard !firewallCoverage.isEmpty else { return [] }
        let lacking = knowledge.knownIssues.first { $0.conditions.contains(.firewallLacksSetupException) }
        let unlogged = knowledge.knownIssues.first { $0.conditions.contains(.firewallRuleNotLogged) }
        func key(_ input: Int) -> String? { Self.firewallServerKey(input, inputs) }
        var coverage: [String: [FirewallCoverage]] = [:]
        var blocks: [String: [FirewallBlock]] = [:]
        var records: [String: Int] = [:]
        let snapshotServers = Set(firewallSnapshotInputs.compactMap(key))
        for (input, items) in firewallCoverage.sorted(by: { $0.key < $1.key }) {
            guard let server = key(input) else { continue }
            // Events are history where the server's current rules were read too.
            if firewallEventInputs.contains(input), !firewallSnapshotInputs.contains(input),
                snapshotServers.contains(server)
            {
                continue
            }
            coverage[server, default: []] += items
            blocks[server, default: []] += firewallBlocks[input] ?? []
            if records[server] == nil { records[server] = input }
        }
        var findings: [PendingFinding] = []
        var logged: [String: [FirewallException]] = [:]
        struct Said: Hashable {
            var server: String
            var unlogged: Bool
            var what: String
        }
        var said = Set<Said>()
        for pending in exceptions
        where pending.exception.origin != .firewall && firewallCoverage[pending.input] == nil {
            // A port setup logged; or a program it logged without a port (its documented ports
            // stand in for it): the firewall must allow that program on some port.
            let programOnly = pending.exception.origin == .documented
            guard let server = key(pending.input), !programOnly || pending.exception.program != nil else { continue }
            if !programOnly { logged[server, default: []].append(pending.exception) }
            guard let lacking, let allowed = coverage[server], let record = records[server] else { continue }
            let exception = pending.exception
            let what: String
            if programOnly, let program = exception.program {
                let name = FirewallCoverage.baseName(program)
                logged[server, default: []].append(exception)
                guard !allowed.contains(where: { $0.program.map(FirewallCoverage.baseName) == name }) else { continue }
                what = "program \(name)"
            } else {
                let blocked = (blocks[server] ?? []).contains { $0.overlaps(exception) }
                guard blocked || !allowed.contains(where: { $0.covers(exception) }) else { continue }
                what =
                    "\(exception.protocol.rawValue.uppercased()) \(exception.ports)"
                    + (exception.program.map { " (\(FirewallCoverage.baseName($0)))" } ?? "")
            }
            guard said.insert(Said(server: server, unlogged: false, what: what)).inserted else { continue }
            var finding = conditionFinding(
                lacking, input: pending.input, evidence: exception.evidence, condition: .firewallLacksSetupException
            )
            finding.explicitRole = pending.explicitRole
            finding.title = "\(lacking.title): \(what)"
            finding.group = "\(lacking.id)|\(what)"
            finding.also = [
                Evidence(
                    path: inputs[record].path, log: nil, line: inputs[record].firstLine ?? 1,
                    text: "firewall record of \(inputs[record].server ?? "this server")")
            ]
            findings.append(finding)
        }
        guard let unlogged else { return findings }
        for pending in exceptions
        where firewallCoverage[pending.input] != nil && pending.exception.origin != .log
            && pending.exception.program != nil && firewallExclusion(pending, inputs: inputs) == nil
        {
            guard let server = key(pending.input), let setup = logged[server], !setup.isEmpty,
                let program = pending.exception.program
            else { continue }
            let name = FirewallCoverage.baseName(program)
            let mentioned = setup.contains { logged in
                logged.program.map(FirewallCoverage.baseName) == name
                    || (pending.exception.origin == .firewall && logged.protocol == pending.exception.protocol
                        && logged.portFrom <= pending.exception.portFrom && pending.exception.portTo <= logged.portTo)
            }
            guard !mentioned else { continue }
            let what = "\(pending.exception.rule ?? name) (\(name))"
            guard said.insert(Said(server: server, unlogged: true, what: what)).inserted else { continue }
            var finding = conditionFinding(
                unlogged, input: pending.input, evidence: pending.exception.evidence,
                condition: .firewallRuleNotLogged)
            finding.explicitRole = pending.explicitRole
            finding.title = "\(unlogged.title): \(what)"
            finding.group = "\(unlogged.id)|\(what)"
            findings.append(finding)
        }
        return findings
    }
}

extension String {
    /// nil for an empty string.
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
