import Knowledge
import ScanModel

/// Where a finding of a finished log will land in the result: what decides its server, its
/// provisional role, and the grouping key.
struct SettledFindingKey: Hashable {
    var server: String?
    var role: RoleID
    var group: String
}

extension Analyzer {
    /// What decides a finished log's server in the result: the server it states; else its folder
    /// (every log of a folder that states none takes the same server from its siblings, or none, and
    /// then the same role from that server); a stream has no folder.
    private func serverKey(_ input: InputResult) -> String {
        if let server = input.server { return "server:" + server.lowercased() }
        guard input.path != "-" else { return "-" }
        return "folder:" + (input.path.lastIndex(of: "/").map { String(input.path[..<$0]) } ?? "")
    }

    /// Folds the findings and exceptions of logs just finished (those from `findingsStart` and
    /// `exceptionsStart` on) into the ones already held that the result would merge them with —
    /// same server, settled role and group; same server, role, side, protocol, ports and origin —
    /// so that memory grows with what differs, not with how many logs repeat it (10,000 logs in
    /// one pipe). Only what the result will merge is folded: the same server key (below) and the
    /// same provisional role settle the same way. The result is the same as without folding: the
    /// first keeps its attributes, the repeats add their count and their last evidence, which
    /// names its log.
    func compact(findingsFrom findingsStart: Int, exceptionsFrom exceptionsStart: Int) {
        awaitingAfter.removeAll()  // the logs are finished: no record follows them
        if findingsStart < findings.count {
            var kept: [PendingFinding] = []
            var folded: [FindingKey: FindingKey] = [:]
            for var finding in findings[findingsStart...] {
                findingIndex[finding.key] = nil
                guard finding.input < inputs.count else {
                    kept.append(finding)
                    continue
                }
                let input = inputs[finding.input]
                finding.evidence.log = finding.evidence.log ?? input.log
                if var last = finding.last {
                    last.log = last.log ?? input.log
                    finding.last = last
                }
                if let cause = finding.cause, let target = folded[cause] { finding.cause = target }
                let key = SettledFindingKey(
                    server: serverKey(input),
                    role: attribution.settledRole(explicit: finding.explicitRole, inputRole: input.role),
                    group: finding.group)
                if let target = settledFindings[key], target < findingsStart {
                    findings[target].count += finding.count
                    findings[target].last = finding.last ?? finding.evidence
                    folded[finding.key] = findings[target].key
                } else {
                    settledFindings[key] = findingsStart + kept.count
                    kept.append(finding)
                }
            }
            findings.removeSubrange(findingsStart...)
            for finding in kept {
                findingIndex[finding.key] = findings.count
                findings.append(finding)
            }
        }
        if exceptionsStart < exceptions.count {
            var kept: [PendingException] = []
            for var pending in exceptions[exceptionsStart...] {
                exceptionIndex[
                    ExceptionKey(pending.exception, input: pending.input, explicitRole: pending.explicitRole)] =
                    nil
                guard pending.input < inputs.count else {
                    kept.append(pending)
                    continue
                }
                let input = inputs[pending.input]
                pending.exception.evidence.log = pending.exception.evidence.log ?? input.log
                var settled = pending.exception
                settled.server = serverKey(input)
                if settled.role == Role.unknownID || pending.explicitRole == nil {
                    settled.role = attribution.exceptionRole(
                        explicit: pending.explicitRole, provisional: settled.role, inputRole: input.role)
                }
                let key = ExceptionKey(settled, input: nil, explicitRole: nil)
                if let target = settledExceptions[key], target < exceptionsStart {
                    // A program or service one entry names is never lent to another origin's entry.
                    if exceptions[target].exception.program == nil {
                        exceptions[target].exception.program = pending.exception.program
                    }
                    if exceptions[target].exception.service == nil {
                        exceptions[target].exception.service = pending.exception.service
                    }
                } else {
                    settledExceptions[key] = exceptionsStart + kept.count
                    kept.append(pending)
                }
            }
            exceptions.removeSubrange(exceptionsStart...)
            for pending in kept {
                exceptionIndex[
                    ExceptionKey(pending.exception, input: pending.input, explicitRole: pending.explicitRole)] =
                    exceptions.count
                exceptions.append(pending)
            }
        }
    }
}
