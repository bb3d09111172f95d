import Foundation
import Knowledge
import PCRE2

/// What the analyzer reports as it goes (for `--format jsonl` and `--explain`).
public enum ScanEvent: Sendable {
    /// A firewall exception found in a record.
    case exception(FirewallException, signature: String)
    /// An error, warning or note found in a record (not yet grouped or ranked).
    case finding(severity: Severity, role: String, code: String?, title: String, evidence: Evidence, signature: String)
    /// A record that looked relevant but matched no signature.
    case notUnderstood(Evidence)
}

/// Options for an analysis.
public struct AnalysisOptions: Sendable {
    /// Roles that override detection for every input (`--role`); the first is used.
    public var roles: [String]
    public var readOptions: ReadOptions
    public var formatHint: LogFormat?
    /// How many records before and after each finding's first evidence to keep (0: none; reports use 2).
    public var surroundingRecords: Int

    public init(
        roles: [String] = [], readOptions: ReadOptions = ReadOptions(), formatHint: LogFormat? = nil,
        surroundingRecords: Int = 0
    ) {
        self.roles = roles
        self.readOptions = readOptions
        self.formatHint = formatHint
        self.surroundingRecords = max(0, min(surroundingRecords, 10))
    }
}

/// Classifies records with the knowledge base and correlates them per role into a ``ScanResult``.
///
/// One analyzer reads the inputs of one scan in order (`analyze(_:)` per input), keeping only
/// what it found — never the records — so memory does not grow with the logs' size.
public final class Analyzer {
    public let knowledge: KnowledgeBase
    public let options: AnalysisOptions
    /// Called now and then while an input is read (every few thousand records): the byte offset
    /// reached in the input and the line number. For progress displays; it must be cheap.
    public var progress: ((_ byteOffset: Int, _ line: Int) -> Void)?
    private let resolver: RoleResolver
    private let attribution: RoleAttribution
    private let extractor: ExceptionExtractor
    /// The prefilter's words (the same as `knowledge.prefilter`, searched without PCRE2).
    private let prefilter: LiteralSet
    private let attention: Matcher?
    /// Ports and protocols, which inside a firewall section look relevant when no entry explains them.
    private let portWords: LiteralSet
    private let exceptionSignatures: [CompiledSignature]
    private let fieldSignatures: [CompiledSignature]
    private let findingSignatures: [CompiledSignature]
    private let knownIssuePatterns: [(KnownIssue, [Matcher])]

    private var inputs: [InputResult] = []
    /// Exceptions found so far, one per distinct port and role (bounded by what the logs open, not their size).
    private var exceptions: [PendingException] = []
    private var exceptionIndex: [String: Int] = [:]
    /// Findings found so far, grouped as they arrive (bounded by the distinct messages, not their repeats).
    private var findings: [PendingFinding] = []
    private var findingIndex: [String: Int] = [:]
    private var activationInputs: [(input: Int, evidence: Evidence)] = []
    /// Where each input's role was first recognised.
    private var roleEvidence: [Int: Evidence] = [:]
    /// Relevant-looking lines no signature matched, grouped by template (at most `maximumLineGroups`).
    private var lineGroups: [LineGroup] = []
    private var lineGroupIndex: [String: Int] = [:]
    private var lineGroupsLeftOut = 0
    static let maximumLineGroups = 500
    /// The last records of the current input (their line and text bytes), for findings' surroundings:
    /// a ring of `surroundingRecords` slots whose buffers are reused, oldest at `recentNext`.
    private var recent: [(line: Int, bytes: [UInt8])] = []
    private var recentNext = 0
    /// Findings still collecting the records that follow their first evidence.
    private var awaitingAfter: [(finding: Int, remaining: Int)] = []
    /// The longest record text kept as a surrounding record.
    static let surroundingTextLimit = 400

    private struct PendingException {
        var exception: FirewallException
        var explicitRole: String?
        var input: Int
    }

    private struct PendingFinding {
        var severity: Severity
        var explicitRole: String?
        var input: Int
        var code: String?
        var event: Int?
        var title: String
        var signature: String
        var knownIssue: KnownIssue?
        var evidence: Evidence
        var context: [String]
        var consequence: Bool
        var group: String
        var count = 1
        var last: Evidence?
        /// The step or MSI action this is the first error of (a root-cause candidate).
        var firstOf: String?
        /// The store key of the finding this one follows from.
        var cause: String?
        /// Logged inside an MSI action that then ended with success (the error was forgiven).
        var forgiven = false
        var surrounding: [Evidence] = []

        var key: String { "\(input)|\(explicitRole ?? "")|\(group)" }
    }

    /// Adds a finding, or counts it as a repeat of one of the same input and group.
    private func store(_ finding: PendingFinding) {
        let key = finding.key
        if let existing = findingIndex[key] {
            findings[existing].count += 1
            findings[existing].last = finding.evidence
        } else {
            findingIndex[key] = findings.count
            var finding = finding
            if options.surroundingRecords > 0 {
                let ordered = recent[recentNext...] + recent[..<recentNext]
                finding.surrounding = ordered.filter { $0.line > 0 }.map { slot in
                    slot.bytes.withUnsafeBufferPointer {
                        Self.evidence(path: finding.evidence.path, line: slot.line, $0)
                    }
                }
                awaitingAfter.append((findings.count, options.surroundingRecords))
            }
            findings.append(finding)
        }
    }

    /// A surrounding record as evidence, its text cut at `surroundingTextLimit` bytes.
    private static func evidence(path: String, line: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Evidence {
        var text = String(decoding: bytes, as: UTF8.self)
        if bytes.count >= surroundingTextLimit {
            text = String(text.prefix(surroundingTextLimit)) + "…"
        }
        return Evidence(path: path, line: line, text: text)
    }

    /// Keeps a record for the surroundings of findings before and after it.
    private func remember(_ draft: RecordDraft) {
        let bytes = UnsafeBufferPointer(rebasing: draft.bytes[0..<min(draft.bytes.count, Self.surroundingTextLimit)])
        if !awaitingAfter.isEmpty {
            for index in awaitingAfter.indices {
                let finding = awaitingAfter[index].finding
                // The record a finding came from is not its own surrounding.
                guard findings[finding].evidence.line != draft.line else { continue }
                findings[finding].surrounding.append(Self.evidence(path: draft.path, line: draft.line, bytes))
                awaitingAfter[index].remaining -= 1
            }
            awaitingAfter.removeAll { $0.remaining <= 0 }
        }
        recent[recentNext].line = draft.line
        recent[recentNext].bytes.removeAll(keepingCapacity: true)
        recent[recentNext].bytes.append(contentsOf: bytes)
        recentNext = (recentNext + 1) % recent.count
    }

    /// Adds an exception unless the same one was already found in this input.
    private func store(_ pending: PendingException) {
        let exception = pending.exception
        let key =
            "\(pending.input)|\(pending.explicitRole ?? "")|\(exception.role)|\(exception.interface ?? "")|\(exception.protocol)|"
            + "\(exception.portFrom)|\(exception.portTo)|\(exception.origin)"
        if let existing = exceptionIndex[key] {
            if exceptions[existing].exception.program == nil {
                exceptions[existing].exception.program = exception.program
            }
            if exceptions[existing].exception.service == nil {
                exceptions[existing].exception.service = exception.service
            }
        } else {
            exceptionIndex[key] = exceptions.count
            exceptions.append(pending)
        }
    }

    public init(knowledge: KnowledgeBase, options: AnalysisOptions = AnalysisOptions()) {
        self.knowledge = knowledge
        self.options = options
        self.resolver = RoleResolver(knowledge)
        self.attribution = RoleAttribution(knowledge: knowledge, forced: options.roles.first)
        self.extractor = ExceptionExtractor(knowledge: knowledge)
        self.prefilter = LiteralSet(knowledge.prefilterWords)
        self.attention = knowledge.attention?.makeMatcher()
        self.portWords = LiteralSet(["tcp", "udp"] + knowledge.vocabulary.portWords)
        exceptionSignatures = knowledge.signatures.filter { $0.type == .exception }.map(CompiledSignature.init)
        fieldSignatures = knowledge.signatures.filter { $0.type == .field && $0.pattern != nil }.map(
            CompiledSignature.init)
        findingSignatures = knowledge.signatures.filter { [.error, .warning, .info, .noise].contains($0.type) }.map(
            CompiledSignature.init)
        knownIssuePatterns = knowledge.knownIssues.map { issue in (issue, issue.patterns.map { $0.makeMatcher() }) }
    }

    // MARK: - One input

    /// Per-input state while its records stream by.
    private struct InputState {
        var index: Int
        var path: String
        var stepRole: String?
        var productRole: String?
        var eventRoles: [String: Int] = [:]
        /// The roles of the programs exception entries named.
        var programRoles: [String: Int] = [:]
        /// The first error of each failed wizard step and MSI action (its store key).
        var failedSteps: [String: String] = [:]
        var failedActions: [String: String] = [:]
        /// The first error of the input outside a rollback (the cause of the rollback's failures).
        var firstError: String?
        var exceptionCount = 0
        /// Exception entries whose port or protocol could not be read.
        var unreadableEntries = 0
        /// Records in a firewall section that looked relevant and were not understood.
        var sectionNotUnderstood = 0
        /// Whether the plain-text paragraph being read follows a line or heading about the firewall.
        var textSection = false
        /// Whether the plain-text log's title is about the firewall (up to the next heading).
        var documentSection = false
        var sawText = false
        var paragraphStart = true
        var lastEndedWithColon = false
        /// Whether the input has a firewall section (a step, task or action about the firewall).
        var hadFirewallSection = false
        /// The last context looked at, and whether it is a firewall section.
        var sectionContext: [String] = []
        var contextIsSection = false
        /// A header line of tab- or space-separated columns that name fields, and the last row read under it.
        var columns: (names: [String], starts: [Int]?, lastLine: Int)?
        var notUnderstood = 0
        var activation: Evidence?
        /// The last step name looked at, so that a step is matched against the roles once, not per record.
        var lastStep: String?
        var lastDepth = 0
        var lastHeading: String?
        /// The line being read, and whether it holds a prefilter word.
        var line = 0
        var lineIsCandidate = false
    }

    /// Reads, parses and classifies one input; `onEvent` sees each event as it is found.
    @discardableResult
    public func analyze(_ input: InputFile, onEvent: (ScanEvent) -> Void = { _ in }) throws -> InputResult {
        var state = InputState(index: inputs.count, path: input.path)
        // An empty ring (line 0 marks an unused slot) for each input.
        recent = Array(repeating: (0, []), count: max(1, options.surroundingRecords))
        recentNext = 0
        awaitingAfter.removeAll()
        let keepSurroundings = options.surroundingRecords > 0
        let progress = self.progress
        var untilProgress = 4096
        let prefilter = self.prefilter
        // The prefilter runs once per line; a one-line record (MSI, plain text) reuses its answer.
        var line = (number: 0, isCandidate: false, candidates: 0)
        let onLine: (Line) -> Void = { current in
            line.number = current.number
            line.isCandidate = prefilter.firstMatch(in: current.rawBytes)
            if line.isCandidate { line.candidates += 1 }
        }
        var readOptions = options.readOptions
        readOptions.vocabulary = knowledge.vocabulary
        let summary = try input.parse(options: readOptions, formatHint: options.formatHint, onLine: onLine) {
            draft in
            state.line = line.number
            state.lineIsCandidate = line.isCandidate
            classify(draft, &state, onEvent)
            if keepSurroundings { remember(draft) }
            untilProgress -= 1
            if untilProgress == 0, let progress {
                untilProgress = 4096
                progress(draft.byteOffset, draft.line)
            }
        }
        let role = attribution.inputRole(
            step: state.stepRole, product: state.productRole, path: input.path, programRoles: state.programRoles,
            eventRoles: state.eventRoles)
        // Absence is not evidence: "no exceptions found" is said only of an activation log that read
        // cleanly — no error or warning (a line saying the firewall was stopped is one), no entry
        // that could not be read, nothing in a firewall section left not understood.
        let hadProblems = findings.contains { $0.input == state.index && $0.severity != .info }
        if let activation = state.activation, state.exceptionCount == 0, !hadProblems, state.unreadableEntries == 0,
            state.sectionNotUnderstood == 0
        {
            activationInputs.append((state.index, activation))
        }
        let result = InputResult(
            path: summary.path, format: (summary.format ?? .plainText).rawValue,
            formats: summary.formats.map(\.rawValue),
            logs: summary.logs, encoding: summary.encoding.rawValue, encodings: summary.encodings?.map(\.rawValue),
            lines: summary.lines, bytes: summary.bytes, role: role, skipped: summary.skipped,
            notUnderstood: state.notUnderstood, candidateLines: line.candidates)
        inputs.append(result)
        return result
    }

    // MARK: - Several inputs at once

    /// Reads `inputs` on up to `jobs` threads (one analyzer per input, sharing the compiled
    /// knowledge) and merges what each found in input order, so the result is the same as reading
    /// them one after another. `onInput` is called on the calling thread, in input order, with each
    /// input's result or error; `onProgress` from the reading threads (input index, byte offset, line).
    public func analyze(
        _ inputs: [InputFile], jobs: Int,
        onProgress: (@Sendable (_ input: Int, _ byteOffset: Int, _ line: Int) -> Void)? = nil,
        onInput: (Int, Result<InputResult, Error>) -> Void
    ) {
        let jobs = max(1, min(jobs, inputs.count))
        if jobs == 1 {
            for (index, input) in inputs.enumerated() {
                progress = onProgress.map { report in { report(index, $0, $1) } }
                onInput(index, Result { try analyze(input) })
            }
            progress = nil
            return
        }
        // Workers read ahead of the merge by at most a few inputs, and each worker's state is
        // merged (and released) as soon as the inputs before it are: memory stays flat however
        // many files there are.
        let slots = WorkerSlots(count: inputs.count, window: jobs * 2)
        let knowledge = self.knowledge
        let options = self.options
        let workers = DispatchGroup()
        DispatchQueue.global().async(group: workers) {
            DispatchQueue.concurrentPerform(iterations: jobs) { _ in
                while let index = slots.next() {
                    let worker = Analyzer(knowledge: knowledge, options: options)
                    worker.progress = onProgress.map { report in { report(index, $0, $1) } }
                    do {
                        try worker.analyze(inputs[index])
                        worker.progress = nil
                        slots.finish(index, .success(WorkerBox(worker)))
                    } catch {
                        slots.finish(index, .failure(error))
                    }
                }
            }
        }
        for index in inputs.indices {
            switch slots.take(index) {
            case .success(let box):
                absorb(box.analyzer)
                onInput(index, .success(self.inputs[self.inputs.count - 1]))
            case .failure(let error):
                onInput(index, .failure(error))
            }
        }
        workers.wait()
    }

    /// Takes over what another analyzer found in its inputs, as if this one had read them next.
    private func absorb(_ other: Analyzer) {
        let offset = inputs.count
        func shifted(_ key: String) -> String {
            guard let bar = key.firstIndex(of: "|"), let input = Int(key[..<bar]) else { return key }
            return "\(input + offset)" + key[bar...]
        }
        for var pending in other.exceptions {
            pending.input += offset
            store(pending)
        }
        for var finding in other.findings {
            finding.input += offset
            finding.cause = finding.cause.map(shifted)
            findingIndex[finding.key] = findings.count
            findings.append(finding)
        }
        activationInputs += other.activationInputs.map { ($0.input + offset, $0.evidence) }
        for (input, evidence) in other.roleEvidence { roleEvidence[input + offset] = evidence }
        for group in other.lineGroups {
            if let existing = lineGroupIndex[group.template] {
                lineGroups[existing].count += group.count
            } else if lineGroups.count < Self.maximumLineGroups {
                lineGroupIndex[group.template] = lineGroups.count
                lineGroups.append(group)
            } else {
                lineGroupsLeftOut += group.count
            }
        }
        lineGroupsLeftOut += other.lineGroupsLeftOut
        inputs += other.inputs
    }

    private func classify(_ draft: RecordDraft, _ state: inout InputState, _ onEvent: (ScanEvent) -> Void) {
        // Roles from structure, cheaply: the wizard step (looked at once per step, not per record), and the MSI product.
        if let step = draft.context.first,
            step != state.lastStep || draft.context.count != state.lastDepth || draft.context.last != state.lastHeading
        {
            state.lastStep = step
            state.lastDepth = draft.context.count
            state.lastHeading = draft.context.last
            // The outermost heading that names a role (a log titled after its command, "Enable-CsComputer",
            // names its role in the step under it).
            if state.stepRole == nil,
                let (heading, role) = draft.context.lazy.compactMap({ heading in
                    self.resolver.role(ofStep: heading).map { (heading, $0) }
                }).first
            {
                state.stepRole = role
                roleEvidence[state.index] = Evidence(path: draft.path, line: draft.line, text: heading)
            }
            if state.activation == nil,
                step.utf8.withContiguousStorageIfAvailable({ Bytes.find("activat", in: $0, ignoringCase: true) })
                    ?? nil != nil
            {
                state.activation = Evidence(path: draft.path, line: draft.line, text: step)
            }
        }
        if state.productRole == nil, draft.kind == .property || draft.kind == .productOutcome || draft.kind == .summary,
            Bytes.find("ProductName", in: draft.bytes) != nil || Bytes.find("Product: ", in: draft.bytes) != nil
                || Bytes.find("Product Name", in: draft.bytes) != nil
        {
            let text = Bytes.string(draft.bytes)
            state.productRole = resolver.role(ofProduct: text)
            if state.productRole != nil, roleEvidence[state.index] == nil {
                roleEvidence[state.index] = Evidence(path: draft.path, line: draft.line, text: text)
            }
        }

        // An MSI action that ends with success forgave the errors logged inside it (a custom action
        // run with "continue" marking): they are not the cause of a later failure.
        if draft.kind == .actionEnd, draft.format == .msiVerbose, draft.outcome == .success,
            let action = draft.context.last, let key = state.failedActions[action], let index = findingIndex[key]
        {
            findings[index].forgiven = true
            findings[index].firstOf = nil
            state.failedActions[action] = nil
            if state.firstError == key { state.firstError = nil }
        }

        let text = draft.bytes
        let raw = UnsafeRawBufferPointer(text)
        // A one-line record's text is its line (at most with a secret masked, which removes words,
        // never adds one): the line's answer holds. Markup and event records are text of their own.
        let passesPrefilter =
            (draft.format == .msiVerbose || draft.format == .plainText) && draft.line == state.line
            ? state.lineIsCandidate : prefilter.firstMatch(in: raw)
        var produced = false
        var materialized: Record?
        func record() -> Record {
            if let materialized { return materialized }
            let made = draft.materialize()
            materialized = made
            return made
        }

        // Errors, warnings, notes: the first signature that matches.
        let finding = findingSignatures.first { compiled in
            !(compiled.hasPattern && !passesPrefilter) && matches(compiled, draft, raw)
        }

        // Firewall exceptions: an entry inside a firewall section (a step, task, table, XML element or
        // MSI action about the firewall, or plain-text lines after one), or one that names the firewall
        // itself. An entry that reports an error opens nothing.
        followParagraphs(draft, passesPrefilter: passesPrefilter, record, &state)
        var columns: [RecordField]?
        if state.columns != nil || passesPrefilter { columns = columnFields(draft, record, &state) }
        if columns?.isEmpty == true { produced = true }  // a column header or ruler
        if passesPrefilter || !draft.fields.isEmpty || columns?.isEmpty == false, finding?.type != .error {
            let inSection = isFirewallSection(draft, record, &state)
            let namesFirewall = passesPrefilter && exceptionSignatures.contains { matches($0, draft, raw) }
            if inSection || namesFirewall {
                var entry = record()
                if entry.fields.isEmpty, let columns, !columns.isEmpty { entry.fields = columns }
                produced = extractExceptions(entry, &state, onEvent) || produced
            }
        }

        // A line about the firewall that states no entry is a heading or a status line ("Task: Configure
        // Windows Firewall", "CA_AddFirewallExceptions: done"): understood.
        if !produced, passesPrefilter, finding == nil, extractor.namesSection(record().text) { produced = true }

        if let compiled = finding {
            if compiled.type != .noise {
                addFinding(
                    record(), signature: compiled.signature, matcher: compiled.matcher, raw: raw, &state, onEvent)
            }
            produced = true
        }

        // Plain-text headings ("Other checks:") are structure.
        if !produced, draft.format == .plainText, state.lastEndedWithColon { produced = true }
        if !produced, passesPrefilter,
            attention?.firstMatch(in: raw) == true || (isFirewallSection(draft, record, &state) && portWords.firstMatch(in: raw))
        {
            state.notUnderstood += 1
            if isFirewallSection(draft, record, &state) { state.sectionNotUnderstood += 1 }
            let evidence = Evidence(path: draft.path, line: draft.line, text: record().text)
            noteNotUnderstood(evidence)
            onEvent(.notUnderstood(evidence))
        }
    }

    /// Groups a line that looked relevant but matched nothing by its template.
    private func noteNotUnderstood(_ evidence: Evidence) {
        let template = Template.mask(evidence.text ?? "")
        if let existing = lineGroupIndex[template] {
            lineGroups[existing].count += 1
        } else if lineGroups.count < Self.maximumLineGroups {
            lineGroupIndex[template] = lineGroups.count
            var first = evidence
            if let text = first.text, text.utf8.count > Self.surroundingTextLimit {
                first.text = String(text.prefix(Self.surroundingTextLimit)) + "…"
            }
            lineGroups.append(LineGroup(template: template, count: 1, first: first))
        } else {
            lineGroupsLeftOut += 1
        }
    }

    /// Whether a signature's structural condition and pattern both hold for a record.
    private func matches(_ compiled: CompiledSignature, _ draft: RecordDraft, _ raw: UnsafeRawBufferPointer) -> Bool {
        if compiled.hasCondition {
            if compiled.kinds != 0, compiled.kinds & draft.kind.bit == 0 { return false }
            if !compiled.numbers.isEmpty {
                guard let number = draft.number, compiled.numbers.contains(where: { $0.contains(number) }) else {
                    return false
                }
            }
            if let outcome = compiled.outcome {
                switch (outcome, draft.outcome) {
                case ("failure", .failure?), ("success", .success?): break
                default: return false
                }
            }
            if !compiled.levels.isEmpty {
                guard let level = draft.event?.level.lowercased(),
                    compiled.levels.contains(where: { level.hasPrefix($0) })
                else {
                    return false
                }
            }
            if let contextMatcher = compiled.contextMatcher {
                guard
                    draft.context.contains(where: { step in
                        var copy = step
                        return copy.withUTF8 { contextMatcher.firstMatch(in: UnsafeRawBufferPointer($0)) }
                    })
                else { return false }
            }
        }
        if let matcher = compiled.matcher { return matcher.firstMatch(in: raw) }
        return true
    }

    /// Every signature that matches a record (not only the first), for tests and for teaching:
    /// exception triggers, finding and noise signatures, and — on exception records — field extractors.
    public func signatures(matching draft: RecordDraft) -> [String] {
        let raw = UnsafeRawBufferPointer(draft.bytes)
        let passesPrefilter = prefilter.firstMatch(in: raw)
        var found: [String] = []
        var isException = false
        for compiled in exceptionSignatures where passesPrefilter && matches(compiled, draft, raw) {
            found.append(compiled.id)
            isException = true
        }
        if isException {
            for compiled in fieldSignatures where compiled.matcher?.firstMatch(in: raw) == true {
                found.append(compiled.id)
            }
        }
        for compiled in findingSignatures {
            if compiled.hasPattern && !passesPrefilter { continue }
            if matches(compiled, draft, raw) { found.append(compiled.id) }
        }
        return found
    }

    /// Whether a record's text passes the prefilter (a test checks every sample does).
    public func passesPrefilter(_ text: String) -> Bool {
        var copy = text
        return copy.withUTF8 { prefilter.firstMatch(in: UnsafeRawBufferPointer($0)) }
    }

    // MARK: - Sections and columns

    /// Whether a record is inside a firewall section: an enclosing step, task or MSI action about the
    /// firewall, an XML element path that names it, or (plain text) a paragraph after a line about it.
    private func isFirewallSection(_ draft: RecordDraft, _ record: () -> Record, _ state: inout InputState) -> Bool {
        // The answer for a context is kept until the context changes (records share its storage).
        if state.sectionContext != draft.context {
            state.sectionContext = draft.context
            state.contextIsSection = extractor.isSection(draft.context)
        }
        if state.contextIsSection {
            state.hadFirewallSection = true
            return true
        }
        if !draft.fields.isEmpty, extractor.namesSection(record().text) { return true }
        return state.textSection || state.documentSection
    }

    /// Follows plain-text structure: a first line (the log's title) about the firewall scopes the
    /// whole log up to the next heading; a heading ending in ":" about the firewall scopes the lines
    /// under it up to a blank line, and one about something else ends both; a line about the firewall
    /// scopes its paragraph.
    private func followParagraphs(
        _ draft: RecordDraft, passesPrefilter: Bool, _ record: () -> Record, _ state: inout InputState
    ) {
        guard draft.format == .plainText || (draft.format == .msiVerbose && (draft.kind == .text || draft.kind == .continuation)) else {
            if draft.format == .msiVerbose { state.textSection = false }
            return
        }
        let trimmed = Bytes.trimmed(draft.bytes)
        if trimmed.isEmpty {
            // A list under "…opened:" may start after a blank line; any other blank line ends a paragraph.
            if !state.lastEndedWithColon { state.textSection = false }
            state.columns = nil
            state.paragraphStart = true
            return
        }
        // Titles and headings are plain text's; an MSI log's structure is its actions.
        let isTitle = !state.sawText && draft.format == .plainText
        let endsWithColon = trimmed.last == UInt8(ascii: ":")
        state.sawText = true
        if isTitle || (draft.format == .plainText && endsWithColon && state.paragraphStart) {
            // A title, or a heading that starts a paragraph: it says what the lines under it are.
            let names = extractor.namesSection(record().text)
            state.textSection = names
            if isTitle || !names { state.documentSection = names }
        } else if passesPrefilter, extractor.namesSection(record().text) {
            state.textSection = true
        }
        state.lastEndedWithColon = endsWithColon
        state.paragraphStart = false
        // The first lines of a plain-text log may name its step or product ("Written by step 'Activate …'").
        if draft.format == .plainText, draft.line <= 20, state.stepRole == nil, state.productRole == nil {
            let text = record().text
            if let role = resolver.role(ofStep: text) ?? resolver.role(ofProduct: text) {
                state.stepRole = role
                roleEvidence[state.index] = Evidence(path: draft.path, line: draft.line, text: text)
            }
        }
    }

    /// Columns of text: a header line of tab- or space-separated field names (Name, Protocol, Port…)
    /// names the cells of the lines under it. Returns the fields of a row (nil for other lines; the
    /// header line itself gives an empty list, so that it counts as understood).
    private func columnFields(_ draft: RecordDraft, _ record: () -> Record, _ state: inout InputState) -> [RecordField]? {
        guard draft.format == .plainText || (draft.format == .msiVerbose && (draft.kind == .text || draft.kind == .continuation)) else {
            return nil
        }
        let bytes = draft.bytes
        let hasTab = bytes.contains(0x09)
        let hasGap = Bytes.find("  ", in: bytes) != nil
        if let columns = state.columns {
            if draft.line == columns.lastLine + 1 {
                let text = record().text
                // A ruler under the header ("-----  ----") keeps the columns.
                if text.allSatisfy({ $0 == "-" || $0 == "=" || $0 == " " || $0 == "\t" }) {
                    state.columns?.lastLine = draft.line
                    return []
                }
                let cells = Self.cells(text, starts: columns.starts)
                if cells.count >= 2, cells.count <= columns.names.count {
                    state.columns?.lastLine = draft.line
                    return zip(columns.names, cells).filter { !$0.1.isEmpty }.map { RecordField(name: $0.0, value: $0.1) }
                }
            }
            state.columns = nil
        }
        guard hasTab || hasGap else { return nil }
        let text = record().text
        let starts = hasTab ? nil : Self.columnStarts(text)
        let names = Self.cells(text, starts: starts)
        let vocabulary = knowledge.vocabulary
        let named = names.compactMap { vocabulary.field(forKey: $0) }
        guard names.count >= 2, named.count >= 2, named.contains(where: { $0 == .port || $0 == .protocol }),
            !names.contains(where: { $0.contains(where: \.isNumber) })
        else { return nil }
        state.columns = (names, starts, draft.line)
        return []
    }

    /// Where the columns of a space-aligned header line start (in characters): after runs of two
    /// or more spaces.
    static func columnStarts(_ text: String) -> [Int] {
        var starts: [Int] = []
        var spaces = 2
        for (offset, character) in text.enumerated() {
            if character == " " {
                spaces += 1
            } else {
                if spaces >= 2 { starts.append(offset) }
                spaces = 0
            }
        }
        return starts
    }

    /// The cells of a line: split at tabs, or cut at the header's column starts (a cell may be empty).
    static func cells(_ text: String, starts: [Int]?) -> [String] {
        guard let starts else {
            return text.split(separator: "\t", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
        }
        let characters = Array(text)
        var cells: [String] = []
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : characters.count
            guard start < characters.count else {
                cells.append("")
                continue
            }
            cells.append(String(characters[start..<min(end, characters.count)]).trimmingCharacters(in: .whitespaces))
        }
        // A row whose text does not fit the columns (words across a column start) is no row.
        for start in starts.dropFirst() where start < characters.count && start > 0 {
            if characters[start - 1] != " " { return [] }
        }
        return cells
    }

    // MARK: - Exceptions

    /// Reads an exception entry and stores what it opens; reports ports that are no ports, values
    /// that could not be read and entries with ruleset syntax as warnings. Whether anything of an
    /// entry was found.
    private func extractExceptions(_ record: Record, _ state: inout InputState, _ onEvent: (ScanEvent) -> Void) -> Bool {
        let (role, explicitRole) = attribution.entryRole(
            context: record.context, text: record.text, inputRole: state.stepRole ?? state.productRole)
        let evidence = Evidence(path: record.path, line: record.line)
        let extraction = extractor.extract(record, role: role, evidence: evidence)
        guard extraction.isEntry else { return false }
        var problems = extraction.invalid.map {
            ("invalid-exception-port", "Firewall exception with an invalid port: \($0)")
        }
        if extraction.suspicious {
            problems.append(
                ("suspicious-exception-entry", "Firewall exception entry with shell or ruleset syntax: check it by hand"))
        }
        for value in extraction.unreadable {
            problems.append(("firewall-entry-not-understood", "Firewall exception entry not understood: \(value)"))
            state.unreadableEntries += 1
        }
        for (signature, title) in problems {
            let finding = PendingFinding(
                severity: .warning, explicitRole: explicitRole, input: state.index, code: nil, event: nil, title: title,
                signature: signature, knownIssue: nil,
                evidence: Evidence(path: record.path, line: record.line, text: record.text),
                context: record.context, consequence: false, group: "\(signature)|\(Template.mask(record.text))")
            store(finding)
            onEvent(
                .finding(
                    severity: .warning, role: role ?? Role.unknownID, code: nil, title: title,
                    evidence: finding.evidence, signature: signature))
        }
        for program in Set(extraction.exceptions.compactMap(\.program)) {
            if let programRole = resolver.role(ofProgram: program) { state.programRoles[programRole, default: 0] += 1 }
        }
        for exception in extraction.exceptions {
            store(PendingException(exception: exception, explicitRole: explicitRole, input: state.index))
            onEvent(.exception(exception, signature: "exception-entry"))
        }
        state.exceptionCount += extraction.exceptions.count
        return true
    }

    // MARK: - Findings

    private func addFinding(
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
        let explicitRole = attribution.explicitRole(context: record.context, text: record.text)
        if let explicitRole { state.eventRoles[explicitRole, default: 0] += 1 }

        // A consequence: in the rollback after the first Return value 3, or after an earlier error
        // of the same wizard step or MSI action.
        var consequence = record.inRollback
        var cause: String? = record.inRollback ? state.firstError : nil
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

    private func matchKnownIssue(record: Record, signature: String, codes: [String]) -> KnownIssue? {
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

    // MARK: - The result

    /// Groups, ranks and correlates everything found so far into the scan result.
    public func result() -> ScanResult {
        func role(input: Int, explicit: String?) -> String {
            attribution.settledRole(explicit: explicit, inputRole: input < inputs.count ? inputs[input].role : nil)
        }

        // Exceptions: roles settled, duplicates merged (the first evidence kept), sorted.
        var merged: [FirewallException] = []
        var index: [String: Int] = [:]
        for pending in exceptions {
            var exception = pending.exception
            if exception.role == Role.unknownID || pending.explicitRole == nil {
                exception.role = role(
                    input: pending.input,
                    explicit: pending.explicitRole ?? (exception.role == Role.unknownID ? nil : exception.role))
            }
            // Interfaces are the Edge's: elsewhere "(External)" is part of a name, not a side of the server.
            if exception.role != "edge" {
                exception.interface = nil
            } else if exception.interface == nil,
                let range = PortRange.parse("\(exception.portFrom)-\(exception.portTo)").success
            {
                exception.interface = extractor.edgeInterface(role: exception.role, range: range, transport: exception.protocol)
            }
            let key =
                "\(exception.role)|\(exception.interface ?? "")|\(exception.protocol)|\(exception.portFrom)|\(exception.portTo)"
            if let existing = index[key] {
                if merged[existing].program == nil { merged[existing].program = exception.program }
                if merged[existing].service == nil { merged[existing].service = exception.service }
                if merged[existing].origin == "documented", exception.origin == "log" {
                    let keepProgram = merged[existing].program
                    merged[existing] = exception
                    if exception.program == nil { merged[existing].program = keepProgram }
                }
            } else {
                index[key] = merged.count
                merged.append(exception)
            }
        }
        merged.sort { lhs, rhs in
            (lhs.role, lhs.interface ?? "", lhs.protocol.rawValue, lhs.portFrom, lhs.portTo)
                < (rhs.role, rhs.interface ?? "", rhs.protocol.rawValue, rhs.portFrom, rhs.portTo)
        }

        // Findings from conditions over the whole scan.
        var pending = findings
        for issue in knowledge.knownIssues {
            for condition in issue.conditions {
                if condition == "activation-without-exceptions" {
                    for (input, evidence) in activationInputs
                    where !pending.contains(where: { $0.input == input && $0.knownIssue?.id == issue.id }) {
                        pending.append(conditionFinding(issue, input: input, evidence: evidence, condition: condition))
                    }
                } else if condition.hasPrefix("role-present:") {
                    let wanted = String(condition.dropFirst("role-present:".count))
                    if let input = inputs.firstIndex(where: { $0.role == wanted }) {
                        let evidence = roleEvidence[input] ?? Evidence(path: inputs[input].path, line: 1, text: nil)
                        pending.append(conditionFinding(issue, input: input, evidence: evidence, condition: condition))
                    }
                }
            }
        }

        // Group repeats: count, first and last evidence.
        struct Group {
            var finding: PendingFinding
            var role: String
            var count: Int
            var last: Evidence
            var order: Int
            var score = 0
            var reasons: [String] = []
            var cause: Int?
        }
        var groups: [Group] = []
        var groupIndex: [String: Int] = [:]
        var groupOfKey: [String: Int] = [:]
        for (order, finding) in pending.enumerated() {
            let settledRole = role(input: finding.input, explicit: finding.explicitRole)
            let key = settledRole + "|" + finding.group
            if let existing = groupIndex[key] {
                groups[existing].count += finding.count
                groups[existing].last = finding.last ?? finding.evidence
            } else {
                groupIndex[key] = groups.count
                groups.append(
                    Group(
                        finding: finding, role: settledRole, count: finding.count,
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
                rank: position + 1, severity: finding.severity, role: group.role, code: finding.code,
                event: finding.event,
                title: finding.title, count: group.count,
                evidence: group.count > 1 ? [finding.evidence, group.last] : [finding.evidence],
                context: finding.context,
                knownIssue: issue?.id, explanation: issue?.explanation, fix: issue?.fix,
                references: issue?.references ?? [],
                signature: finding.signature, group: finding.group, consequence: finding.consequence,
                causeRank: group.cause.flatMap { rankOfGroup[$0] }, score: group.score, reasons: group.reasons,
                surrounding: options.surroundingRecords > 0 ? finding.surrounding : nil)
        }
        var roles: [String] = []
        for role in inputs.map(\.role) + merged.map(\.role) + ranked.map(\.role) where !roles.contains(role) {
            roles.append(role)
        }
        roles.sort()
        return ScanResult(
            inputs: inputs, exceptions: merged, findings: ranked,
            notUnderstood: lineGroups.sorted { ($1.count, $0.first.line) < ($0.count, $1.first.line) },
            summary: ScanResult.Summary(
                errors: ranked.filter { $0.severity == .error }.count,
                warnings: ranked.filter { $0.severity == .warning }.count,
                exceptions: merged.count, roles: roles))
    }

    /// Ranking points, in tiers that never overlap: severity (error 2000, warning 1000, info 0) first;
    /// within a tier at most +650 (first error of its step +300, known issue +200, role weight × 10,
    /// repeats up to +50) and at least −300 (a consequence).
    private func score(_ finding: PendingFinding, role: String, count: Int) -> (Int, [String]) {
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

    private func conditionFinding(_ issue: KnownIssue, input: Int, evidence: Evidence, condition: String)
        -> PendingFinding
    {
        let severity = Severity(rawValue: issue.severity) ?? .warning
        return PendingFinding(
            severity: severity, explicitRole: issue.roles.count == 1 ? issue.roles.first : nil, input: input, code: nil,
            event: nil,
            title: issue.title, signature: condition, knownIssue: issue, evidence: evidence, context: [],
            consequence: false,
            group: "\(issue.id)|\(condition)")
    }
}

extension Result {
    /// The success value, or nil.
    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}

/// An analyzer handed from the thread that filled it to the one that merges it (never used by both at once).
private struct WorkerBox: @unchecked Sendable {
    let analyzer: Analyzer
    init(_ analyzer: Analyzer) { self.analyzer = analyzer }
}

/// The inputs still to read and what each worker produced, shared by the reading threads and
/// the merging one.
private final class WorkerSlots: @unchecked Sendable {
    private let condition = NSCondition()
    private var nextIndex = 0
    private var merged = 0
    private let window: Int
    private var results: [Result<WorkerBox, Error>?]

    init(count: Int, window: Int) {
        results = Array(repeating: nil, count: count)
        self.window = max(1, window)
    }

    /// The next input to read, once it is within `window` of the merge; nil when none is left.
    func next() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while nextIndex < results.count, nextIndex >= merged + window { condition.wait() }
        guard nextIndex < results.count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    func finish(_ index: Int, _ result: Result<WorkerBox, Error>) {
        condition.lock()
        results[index] = result
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for an input's result and hands it over (the slot lets go of it).
    func take(_ index: Int) -> Result<WorkerBox, Error> {
        condition.lock()
        defer { condition.unlock() }
        while results[index] == nil { condition.wait() }
        let result = results[index]!
        results[index] = nil
        merged = index + 1
        condition.broadcast()
        return result
    }
}

/// A signature with its matchers made and its condition in the form records are checked against
/// (a class: it is read for every record, and is never copied).
private final class CompiledSignature {
    let signature: Signature
    let id: String
    let type: SignatureType
    let matcher: Matcher?
    let hasPattern: Bool
    let hasCondition: Bool
    /// The record kinds the condition names, as a bit set (`RecordKind.bit`); 0 for any.
    let kinds: UInt32
    let numbers: [ClosedRange<Int>]
    let outcome: String?
    let levels: [String]
    let contextMatcher: Matcher?
    let groupNumbers: [String: Int]

    init(_ signature: Signature) {
        self.signature = signature
        id = signature.id
        type = signature.type
        matcher = signature.pattern?.makeMatcher()
        hasPattern = signature.pattern != nil
        hasCondition = signature.when != nil
        kinds = (signature.when?.kinds ?? []).compactMap(RecordKind.init(rawValue:)).reduce(0) { $0 | $1.bit }
        numbers = signature.when?.numbers ?? []
        outcome = signature.when?.outcome
        levels = signature.when?.levels ?? []
        contextMatcher = signature.when?.context?.makeMatcher()
        groupNumbers = signature.pattern?.groupNumbers ?? [:]
    }
}
