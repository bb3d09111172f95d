import Knowledge
import PCRE2
import ScanModel

extension Analyzer {
    // MARK: - Findings

    func addFinding(
        _ record: Record, signature: Signature, matcher: Matcher?, raw: UnsafeRawBufferPointer,
        _ state: inout InputState,
        _ onEvent: (ScanEvent) -> Void
    ) {
        var code: String?
        if let matcher, let pattern = signature.pattern {
            for name in ["code", "code2"] where code == nil && pattern.groupNumbers[name] != nil {
                if let range = matcher.range(ofGroup: name) {
                    code = ErrorCode.normalize(String(decoding: raw[range], as: UTF8.self))
                }
            }
        }
        let codesInText = ErrorCode.codes(in: record.text)
        if code == nil, case .failure(let failureCode?) = record.outcome, record.kind != .event {
            code = ErrorCode.normalize(failureCode)
        }
        if code == nil, record.kind != .event, record.kind != .actionEnd, let number = record.number {
            code = String(number)
        }
        if code == nil { code = codesInText.first }
        let severity: Severity =
            switch signature.type {
            case .error: .error
            case .warning: .warning
            default: .info
            }
        var title = signature.title
        if record.kind == .event, let event = record.event {
            title += " \(event.eventID.map(String.init) ?? "?")" + (event.source.isEmpty ? "" : " (\(event.source))")
        } else if record.format == .msiVerbose, let action = record.context.last,
            record.kind == .actionEnd || record.kind == .customActionResult
        {
            title += " in \(action)"
        }
        let knownIssue = matchKnownIssue(
            record: record, signature: signature.id, codes: ([code].compactMap { $0 } + codesInText))
        // An event's source names its service ("MSSQL$RTC", "OCS Application Server").
        let explicitRole =
            attribution.explicitRole(context: record.context, text: record.text)
            ?? record.event.flatMap { resolver.role(namedIn: $0.source) }
        if let explicitRole { state.eventRoles[explicitRole, default: 0] += 1 }

        // A consequence: in the rollback after the first Return value 3, or after an earlier error
        // of the same wizard step or MSI action.
        var consequence = record.inRollback
        var cause: FindingKey? = record.inRollback ? state.firstError : nil
        var firstOf: String?
        let scope: String? =
            switch record.format {
            case .msiVerbose: record.context.last
            case .deploymentHTML, .lcscmdXML: record.context.first
            default: nil
            }
        let evidence = Evidence(path: record.path, line: record.line, text: record.text)
        let group = [
            signature.id, code ?? "", record.event?.eventID.map(String.init) ?? "", Template.mask(record.text),
        ].joined(
            separator: "|")
        var finding = PendingFinding(
            severity: severity, explicitRole: explicitRole, input: state.index, code: code,
            event: record.event?.eventID,
            title: title, signature: signature.id, knownIssue: knownIssue, evidence: evidence,
            context: record.context,
            consequence: consequence, group: group)
        if severity == .error {
            let key = finding.key
            if let scope {
                let earlier = record.format == .msiVerbose ? state.failedActions[scope] : state.failedSteps[scope]
                if let earlier, earlier != key {
                    consequence = true
                    cause = cause ?? earlier
                } else if earlier == nil {
                    if !record.inRollback { firstOf = scope }
                    if record.format == .msiVerbose {
                        state.failedActions[scope] = key
                    } else {
                        state.failedSteps[scope] = key
                    }
                }
            }
            if !record.inRollback, state.firstError == nil { state.firstError = key }
        }
        finding.consequence = consequence
        finding.cause = cause == finding.key ? nil : cause
        finding.firstOf = firstOf
        store(finding)
        onEvent(
            .finding(
                severity: severity, role: explicitRole ?? state.stepRole ?? state.productRole ?? Role.unknownID,
                code: code,
                title: title, evidence: evidence, signature: signature.id))
    }

    func matchKnownIssue(record: Record, signature: String, codes: [String]) -> KnownIssue? {
        var text = record.text
        for (issue, matchers) in knownIssuePatterns {
            if issue.codes.contains(where: codes.contains) { return issue }
            if let id = record.event?.eventID, issue.events.contains(id) { return issue }
            if issue.signatures.contains(signature) { return issue }
            if !matchers.isEmpty,
                text.withUTF8({ bytes in matchers.contains { $0.firstMatch(in: UnsafeRawBufferPointer(bytes)) } })
            {
                return issue
            }
        }
        return nil
    }
}
