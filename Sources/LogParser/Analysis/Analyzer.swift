import Foundation
import Knowledge
import PCRE2
import ScanModel

/// What the analyzer reports as it goes (for `--format jsonl` and `--explain`).
public enum ScanEvent: Sendable {
    /// A firewall exception found in a record.
    case exception(FirewallException, signature: String)
    /// An error, warning or note found in a record (not yet grouped or ranked).
    case finding(severity: Severity, role: RoleID, code: String?, title: String, evidence: Evidence, signature: String)
    /// A record that looked relevant but matched no signature.
    case notUnderstood(Evidence)
}

extension ScanEvent {
    /// The event with its evidence naming the log of a stream it was found in.
    func inLog(_ log: Int) -> ScanEvent {
        switch self {
        case .exception(var exception, let signature):
            exception.evidence.log = log
            return .exception(exception, signature: signature)
        case .finding(let severity, let role, let code, let title, var evidence, let signature):
            evidence.log = log
            return .finding(
                severity: severity, role: role, code: code, title: title, evidence: evidence, signature: signature)
        case .notUnderstood(var evidence):
            evidence.log = log
            return .notUnderstood(evidence)
        }
    }
}

/// Options for an analysis.
public struct AnalysisOptions: Sendable {
    /// Roles that override detection for every input (`--role`); the first is used.
    public var roles: [RoleID]
    public var readOptions: ReadOptions
    public var formatHint: LogFormat?
    /// How many records before and after each finding's first evidence to keep (0: none; reports use 2).
    public var surroundingRecords: Int
    /// The computer every input ran on (`--server`), over what the logs state.
    public var server: String?
    /// Parse every line into its record (`--exact`): the reference path that the fast one — which
    /// reads lines that cannot change a result without making their records — must equal.
    public var parseEveryLine: Bool

    public init(
        roles: [RoleID] = [], readOptions: ReadOptions = ReadOptions(), formatHint: LogFormat? = nil,
        surroundingRecords: Int = 0, server: String? = nil, parseEveryLine: Bool = false
    ) {
        self.server = server
        self.parseEveryLine = parseEveryLine
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
    let resolver: RoleResolver
    let attribution: RoleAttribution
    let extractor: ExceptionExtractor
    /// The prefilter's words (the same as `knowledge.prefilter`, searched without PCRE2).
    let prefilter: LiteralSet
    let attention: Matcher?
    /// Ports and protocols, which inside a firewall section look relevant when no entry explains them.
    /// ("report" holds no port: whole words only).
    let portWords: Matcher
    let exceptionSignatures: [CompiledSignature]
    let fieldSignatures: [CompiledSignature]
    let findingSignatures: [CompiledSignature]
    let knownIssuePatterns: [(KnownIssue, [Matcher])]
    /// The MSI record kinds (``RecordKind/bit``: engine lines, properties, notes) that no error,
    /// warning or note signature without a pattern can match (a noise signature's match changes
    /// nothing): such a record without a prefilter word is classified as nothing, so its parser may
    /// skip making it. 0 when every line is parsed (`--exact`) or records are kept for surroundings.
    let quietKinds: UInt32
    /// The numbers such a signature asks for: a note stating one is never skipped.
    let loudNumbers: [ClosedRange<Int>]
    /// Lines of the inputs analyzed so far that were read without making their records.
    public private(set) var quietLines = 0

    var inputs: [InputResult] = []
    /// Exceptions found so far, one per distinct port and role (bounded by what the logs open, not their size).
    var exceptions: [PendingException] = []
    var exceptionIndex: [ExceptionKey: Int] = [:]
    /// Findings found so far, grouped as they arrive (bounded by the distinct messages, not their repeats).
    var findings: [PendingFinding] = []
    var findingIndex: [FindingKey: Int] = [:]
    var activationInputs: [(input: Int, evidence: Evidence)] = []
    /// Where each input's role was first recognised (kept for the first input of each role only).
    var roleEvidence: [Int: Evidence] = [:]
    var rolesWithEvidence: Set<RoleID> = []
    /// Findings and exceptions of finished logs by where they land in the result (see ``compact(findingsFrom:exceptionsFrom:)``).
    var settledFindings: [SettledFindingKey: Int] = [:]
    var settledExceptions: [ExceptionKey: Int] = [:]
    /// Relevant-looking lines no signature matched, grouped by template (at most `maximumLineGroups`).
    var lineGroups: [LineGroup] = []
    var lineGroupIndex: [String: Int] = [:]
    var lineGroupsLeftOut = 0
    static let maximumLineGroups = 500
    /// The firewall record's words (netsh labels, event message labels).
    let firewallWords: FirewallWords
    /// Firewall rules read that no ruleset carries (with the input they came from), and how many were left out.
    var firewallNotes: [(FirewallRuleNote, Int)] = []
    var firewallNotesLeftOut = 0
    /// Open ports of firewall rules that are not OCS's.
    var otherExceptions: [PendingException] = []
    /// What each firewall record allows, by input: for checking setup's exceptions against it.
    var firewallCoverage: [Int: [FirewallCoverage]] = [:]
    /// Each firewall record's block rules, by input (the allow rules they overlap are not carried).
    var firewallBlocks: [Int: [FirewallBlock]] = [:]
    /// The inputs that hold a firewall's current rules (exports, netsh), and those that hold
    /// rule-change events (which yield to a current record of the same server).
    var firewallSnapshotInputs: Set<Int> = []
    var firewallEventInputs: Set<Int> = []
    /// How many first lines of a log may name its role in their text.
    static let roleLines = 25
    /// How many first lines of a log may state the computer it ran on (a header); MSI properties
    /// and events state it anywhere.
    static let serverLines = 60
    let computerNames: ComputerNames
    /// The last records of the current input (their line and text bytes), for findings' surroundings:
    /// a ring of `surroundingRecords` slots whose buffers are reused, oldest at `recentNext`.
    var recent: [(line: Int, bytes: [UInt8])] = []
    var recentNext = 0
    /// Findings still collecting the records that follow their first evidence.
    var awaitingAfter: [(finding: Int, remaining: Int)] = []
    /// The longest record text kept as a surrounding record.
    static let surroundingTextLimit = 400

    struct PendingException {
        var exception: FirewallException
        var explicitRole: RoleID?
        var input: Int
    }

    struct PendingFinding {
        var severity: Severity
        var explicitRole: RoleID?
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
        var cause: FindingKey?
        /// Logged inside an MSI action that then ended with success (the error was forgiven).
        var forgiven = false
        var surrounding: [Evidence] = []
        /// More evidence shown with the first (the firewall record a setup exception is missing from).
        var also: [Evidence] = []

        var key: FindingKey { FindingKey(input: input, explicitRole: explicitRole, group: group) }
    }

    /// Adds a finding, or counts it as a repeat of one of the same input and group.
    func store(_ finding: PendingFinding) {
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

    /// Adds an exception unless the same one was already found in this input; whether it was new.
    @discardableResult
    func store(_ pending: PendingException) -> Bool {
        let exception = pending.exception
        let key = ExceptionKey(exception, input: pending.input, explicitRole: pending.explicitRole)
        if let existing = exceptionIndex[key] {
            if exceptions[existing].exception.program == nil {
                exceptions[existing].exception.program = exception.program
            }
            if exceptions[existing].exception.service == nil {
                exceptions[existing].exception.service = exception.service
            }
            return false
        }
        exceptionIndex[key] = exceptions.count
        exceptions.append(pending)
        return true
    }

    public init(knowledge: KnowledgeBase, options: AnalysisOptions = AnalysisOptions()) {
        self.knowledge = knowledge
        self.options = options
        self.resolver = RoleResolver(knowledge)
        self.attribution = RoleAttribution(knowledge: knowledge, forced: options.roles.first)
        self.extractor = ExceptionExtractor(knowledge: knowledge)
        self.computerNames = ComputerNames(knowledge.vocabulary)
        self.firewallWords = FirewallWords(knowledge.firewall)
        self.prefilter = LiteralSet(knowledge.prefilterWords)
        self.attention = knowledge.attention?.makeMatcher()
        let words = (["tcp", "udp"] + knowledge.vocabulary.portWords).map { word in
            word.unicodeScalars.map { "\\^$.|?*+()[]{}-/#".unicodeScalars.contains($0) ? "\\\($0)" : "\($0)" }.joined()
        }
        // The words come from validated knowledge and are escaped: the pattern always compiles.
        self.portWords = ((try? Pattern("(?i)\\b(?:" + words.joined(separator: "|") + ")\\b")) ?? knowledge.prefilter)
            .makeMatcher()
        exceptionSignatures = knowledge.signatures.filter { $0.type == .exception }.map(CompiledSignature.init)
        fieldSignatures = knowledge.signatures.filter { $0.type == .field && $0.pattern != nil }.map(
            CompiledSignature.init)
        findingSignatures = knowledge.signatures.filter { [.error, .warning, .info, .noise].contains($0.type) }.map(
            CompiledSignature.init)
        knownIssuePatterns = knowledge.knownIssues.map { issue in (issue, issue.patterns.map { $0.makeMatcher() }) }
        var quiet = RecordKind.engine.bit | RecordKind.property.bit | RecordKind.note.bit
        var loud: [ClosedRange<Int>] = []
        for compiled in findingSignatures where !compiled.hasPattern && compiled.type != .noise {
            // A condition on an outcome or an event level fails on these records (they state neither).
            guard compiled.outcome == nil, compiled.levels.isEmpty else { continue }
            let kinds = compiled.kinds == 0 ? ~UInt32(0) : compiled.kinds
            if compiled.numbers.isEmpty {
                quiet &= ~kinds
            } else if kinds & RecordKind.note.bit != 0 {
                loud += compiled.numbers  // (engine lines and properties state no number)
            }
        }
        quietKinds = options.parseEveryLine || options.surroundingRecords > 0 ? 0 : quiet
        loudNumbers = loud
    }

    // MARK: - One input

    /// Per-log state while its records stream by (an input holds one log, or several one after another).
    struct InputState {
        var index: Int
        var path: String
        /// Where the log begins in its input, how it was read there, and the formats of its records.
        var firstLine = 1
        var byteOffset = 0
        var encoding: TextEncoding?
        var statistics = ReaderStatistics()
        /// The input's counts of cut records, their bytes and abandoned matches before this log began.
        var cutBefore = (records: 0, bytes: 0, abandoned: 0)
        var startFormat: LogFormat?
        var formats: [LogFormat] = []
        /// Lines of the log that hold a prefilter word.
        var candidates = 0
        /// The log's title (its first step, its MSI product) and the computer it states.
        var title: String?
        var server: String?
        /// Whether the log began at a header, a byte-order mark or an encoding change (see ``LogStart/announced``).
        var announced = false
        /// Events looked at for a computer name.
        var eventsLookedAt = 0
        var stepRole: RoleID?
        var productRole: RoleID?
        var eventRoles: [RoleID: Int] = [:]
        /// The roles of the programs exception entries named.
        var programRoles: [RoleID: Int] = [:]
        /// The first error of each failed wizard step and MSI action (its store key).
        var failedSteps: [String: FindingKey] = [:]
        var failedActions: [String: FindingKey] = [:]
        /// The first error of the input outside a rollback (the cause of the rollback's failures).
        var firstError: FindingKey?
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
        /// Whether the paragraph being read has spoken of the firewall, and of exceptions or rules.
        var paragraphSection = false
        var paragraphEntry = false
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
        /// Whether the log is the firewall's own record, and its rule-change events by rule id.
        var isFirewallRecord = false
        var firewallTable:
            [String: (change: FirewallChange, evidence: Evidence, order: Int, time: String?, sequence: Int)] = [:]
        var firewallOrder = 0
        /// The latest reset (event 2032/2033) of the log, and the order its events are listed in.
        var firewallReset: (time: String, sequence: Int, evidence: Evidence)?
        var lastEventTime: String?
        var eventsDescending = false
    }

    /// Reads, parses and classifies one input; `onEvent` sees each event as it is found. Each log
    /// the input holds (a stream or a file of several logs one after another) is read afresh —
    /// format, role, server, step and action context, first errors — and has a result of its own.
    @discardableResult
    public func analyze(_ input: InputFile, onEvent: (ScanEvent) -> Void = { _ in }) throws -> [InputResult] {
        let first = inputs.count
        var state = InputState(index: first, path: input.path)
        resetSurroundings()
        // What the finished logs found is folded as they finish (a stream of thousands of logs) or at
        // the end of the input (a file's logs are numbered only once it is known to hold several).
        var compacted = (findings: findings.count, exceptions: exceptions.count)
        // Events from a stream name the log they are in as they are found (files get numbers only
        // when they turn out to hold several logs, at their end).
        var currentLog = 1
        let streamed = input.isStandardInput
        func report(_ event: ScanEvent) { onEvent(streamed ? event.inLog(currentLog) : event) }
        let keepSurroundings = options.surroundingRecords > 0
        let progress = self.progress
        var untilProgress = 4096
        let prefilter = self.prefilter
        // The prefilter runs once per line; a one-line record (MSI, plain text) reuses its answer.
        var line = (number: 0, isCandidate: false)
        let computerNames = self.computerNames
        var headerServer: (name: String, line: Int)?
        // The kinds of record the last record left the analyzer ignoring (see `restingKinds`).
        var resting: UInt32 = 0
        let onLine: (Line) -> UInt32 = { current in
            line.number = current.number
            line.isCandidate = prefilter.firstMatch(in: current.rawBytes)
            if line.isCandidate { state.candidates += 1 }
            untilProgress -= 1
            if untilProgress == 0, let progress {
                untilProgress = 4096
                progress(current.byteOffset, current.number)
            }
            // A log's header states its computer in its first lines, in any markup: read the line itself
            // (`<MachineName>FE01</MachineName>`, `<td>Computer:</td><td>FE01</td>`).
            let inHeader = state.server == nil && current.number - state.firstLine < Self.serverLines
            if inHeader, headerServer == nil, let name = computerNames.name(in: current.buffer) {
                headerServer = (name, current.number)
            }
            guard resting != 0, !line.isCandidate, !inHeader, headerServer == nil else { return 0 }
            // A property may still state the computer or the product (looked for in every property
            // until found): one that might is read.
            if resting & RecordKind.property.bit != 0,
                (state.server == nil && computerNames.mayName(current.buffer))
                    || (state.productRole == nil && Bytes.find("Product", in: current.buffer) != nil)
            {
                return resting & ~RecordKind.property.bit
            }
            return resting
        }
        let abandonedBefore = AbandonedMatches.onThisThread
        let onLogStart: (LogStart) -> Void = { start in
            resting = 0
            if start.index > 1 {
                let lines = start.line - state.firstLine
                if self.inputs.count == first, !start.newFile, self.isTrivial(state, lines: lines) {
                    // Lines before the first log ("Here is the log:") belong to the log they introduce.
                    state.startFormat = start.format
                    state.announced = start.announced
                    return
                }
                // The line that begins the new log was counted before the log began.
                let carried = line.isCandidate && line.number == start.line ? 1 : 0
                state.candidates -= carried
                var skipped = InputSummary.Skipped(start.statistics, endedInsideRecord: start.previousEndedInsideRecord)
                skipped.recordsCut = start.recordsCutBefore
                skipped.recordBytesCut = start.recordBytesCutBefore
                skipped.matchesAbandoned = AbandonedMatches.onThisThread - abandonedBefore
                self.finishLog(
                    &state, firstOfInput: first, lines: lines, bytes: start.byteOffset - state.byteOffset,
                    skipped: skipped)
                // Two logs finished (a trailer merged back is none): the input holds several, so its logs
                // are numbered and what the finished ones found can be folded now (memory stays flat for a
                // file of many logs too). A stream's logs are numbered from the first.
                if self.inputs.count - first >= 2 {
                    // The earlier ones were numbered when they were the newest (the first when the second came).
                    for index in (self.inputs.count - 2)..<self.inputs.count {
                        self.inputs[index].log = index - first + 1
                    }
                }
                if streamed || self.inputs.count - first >= 2 {
                    self.compact(findingsFrom: compacted.findings, exceptionsFrom: compacted.exceptions)
                    compacted = (self.findings.count, self.exceptions.count)
                }
                state = InputState(index: self.inputs.count, path: input.path)
                state.candidates = carried
                currentLog = self.inputs.count - first + 1
                self.resetSurroundings()
            }
            state.firstLine = start.line
            state.byteOffset = start.byteOffset
            state.encoding = start.encoding
            state.statistics = start.statistics
            state.cutBefore = (
                start.recordsCutBefore, start.recordBytesCutBefore, AbandonedMatches.onThisThread - abandonedBefore
            )
            state.startFormat = start.format
            state.announced = start.announced
        }
        var readOptions = options.readOptions
        readOptions.vocabulary = knowledge.vocabulary
        readOptions.firewall = knowledge.firewall
        readOptions.loudNumbers = loudNumbers
        var summary = try input.parse(
            options: readOptions, formatHint: options.formatHint, onLine: onLine, onLogStart: onLogStart
        ) { draft in
            state.line = line.number
            state.lineIsCandidate = line.isCandidate
            if let found = headerServer {
                headerServer = nil
                // (The records of the log before, given out when this one began, are not this log's.)
                if state.server == nil, found.line >= state.firstLine, found.line <= draft.line {
                    state.server = found.name
                }
            }
            classify(draft, &state, report)
            if keepSurroundings { remember(draft) }
            // What the analyzer would ignore next: an MSI log's engine lines, properties and notes,
            // unless its text is a firewall paragraph (read on, line by line).
            resting = quietKinds != 0 && !state.textSection && draft.format == .msiVerbose ? quietKinds : 0
        }
        quietLines += summary.quietLines
        var end = summary.skipped
        end.matchesAbandoned = AbandonedMatches.onThisThread - abandonedBefore
        if (end.matchesAbandoned ?? 0) > 0 { summary.skipped.matchesAbandoned = end.matchesAbandoned }
        finishLog(
            &state, firstOfInput: first, lines: summary.lines - state.firstLine + 1,
            bytes: summary.bytes - state.byteOffset, skipped: end)

        if inputs.count - first == 1 {
            // One log: the input's own summary (its encodings, every format it switched to).
            inputs[first].format = summary.format ?? .plainText
            inputs[first].formats = summary.formats
            inputs[first].logs = 1  // (a preamble or trailer the stream counted is part of it)
            inputs[first].encoding = summary.encoding.rawValue
            inputs[first].encodings = summary.encodings?.map(\.rawValue)
            inputs[first].lines = summary.lines
            inputs[first].bytes = summary.bytes
            inputs[first].skipped = summary.skipped
        }
        if inputs.count - first == 1, !input.isStandardInput {
            inputs[first].log = nil
            inputs[first].offset = nil
            inputs[first].firstLine = nil
        } else {
            for (number, index) in (first..<inputs.count).enumerated() { inputs[index].log = number + 1 }
        }
        compact(findingsFrom: compacted.findings, exceptionsFrom: compacted.exceptions)

        return Array(inputs[first...])
    }

    /// Empties the ring of records kept for findings' surroundings (line 0 marks an unused slot).
    private func resetSurroundings() {
        recent = Array(repeating: (0, []), count: max(1, options.surroundingRecords))
        recentNext = 0
        awaitingAfter.removeAll()
    }

    /// Whether a log found nothing and is a few lines of plain text that did not announce itself
    /// (no header, no byte-order mark) and state no computer: a preamble or a trailer, not a log.
    private func isTrivial(_ state: InputState, lines: Int) -> Bool {
        !state.announced && state.server == nil && (state.startFormat ?? .plainText) == .plainText
            && state.formats.allSatisfy { $0 == .plainText }
            && lines < LogStream.fragmentWindow && state.exceptionCount == 0 && state.notUnderstood == 0
            && state.unreadableEntries == 0 && state.activation == nil && findings.last?.input != state.index
    }

    /// Settles a log's role and adds its result (a trailer of a few lines joins the log before it).
    /// `end` holds the input's counts where the log ends; the log's own are what grew since it began.
    private func finishLog(
        _ state: inout InputState, firstOfInput: Int, lines: Int, bytes: Int, skipped end: InputSummary.Skipped
    ) {
        finishFirewallEvents(&state)
        var skipped = end
        skipped.longLines -= state.statistics.longLines
        skipped.bytes -= state.statistics.skippedBytes
        skipped.windows1252Lines -= state.statistics.windows1252Lines
        skipped.undecodable -= state.statistics.replacedCharacters
        skipped.binaryBytes -= state.statistics.nulBytes
        // Cut records and abandoned matches come as the input's totals so far: this log's are what grew.
        func own(_ total: Int?, _ before: Int) -> Int? {
            let count = (total ?? 0) - before
            return count > 0 ? count : nil
        }
        skipped.recordsCut = own(end.recordsCut, state.cutBefore.records)
        skipped.recordBytesCut = own(end.recordBytesCut, state.cutBefore.bytes)
        skipped.matchesAbandoned = own(end.matchesAbandoned, state.cutBefore.abandoned)
        if inputs.count > firstOfInput, isTrivial(state, lines: lines) {
            let last = inputs.count - 1
            inputs[last].lines += lines
            inputs[last].bytes += bytes
            inputs[last].candidateLines += state.candidates
            inputs[last].skipped.longLines += skipped.longLines
            inputs[last].skipped.bytes += skipped.bytes
            inputs[last].skipped.windows1252Lines += skipped.windows1252Lines
            inputs[last].skipped.undecodable += skipped.undecodable
            inputs[last].skipped.binaryBytes += skipped.binaryBytes
            inputs[last].skipped.endedInsideRecord = skipped.endedInsideRecord
            func add(_ count: Int?, to total: inout Int?) {
                if let count { total = (total ?? 0) + count }
            }
            add(skipped.recordsCut, to: &inputs[last].skipped.recordsCut)
            add(skipped.recordBytesCut, to: &inputs[last].skipped.recordBytesCut)
            add(skipped.matchesAbandoned, to: &inputs[last].skipped.matchesAbandoned)
            return
        }
        let role = attribution.inputRole(
            step: state.stepRole, product: state.productRole, path: state.path, programRoles: state.programRoles,
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
        let formats = state.formats.contains { $0 != .plainText } ? state.formats.filter { $0 != .plainText } : []
        let format = formats.first ?? state.startFormat ?? .plainText
        if rolesWithEvidence.contains(role) {
            roleEvidence[state.index] = nil  // only the first input of a role is named as its evidence
        } else if roleEvidence[state.index] != nil {
            rolesWithEvidence.insert(role)
        }
        let result = InputResult(
            path: state.path, log: state.path == "-" ? inputs.count - firstOfInput + 1 : nil, offset: state.byteOffset,
            firstLine: state.firstLine, title: state.title,
            server: options.server ?? state.server, format: format,
            formats: formats.isEmpty ? [format] : formats, logs: 1,
            encoding: (state.encoding ?? .utf8).rawValue, encodings: nil, lines: lines, bytes: bytes, role: role,
            skipped: skipped, notUnderstood: state.notUnderstood, candidateLines: state.candidates)
        inputs.append(result)
    }

    func classify(_ draft: RecordDraft, _ state: inout InputState, _ onEvent: (ScanEvent) -> Void) {
        if state.formats.last != draft.format, !state.formats.contains(draft.format) {
            state.formats.append(draft.format)
        }
        if state.server == nil { readServer(draft, &state) }
        if draft.kind == .firewallRule, let change = draft.firewall {
            readFirewall(change, draft, &state, onEvent)
            return
        }
        // A firewall event exported as text: its message lists the rule (without its ports).
        if draft.kind == .event, let event = draft.event, let id = event.eventID,
            let kind = firewallWords.change(ofEvent: id), event.source.lowercased().contains("firewall")
        {
            let text = Bytes.string(draft.buffer)
            let rule = ruleFromMessage(text, time: event.time)
            readFirewall(FirewallChange(kind: kind, rule: rule, time: event.time), draft, &state)
            return
        }
        // Roles from structure, cheaply: the wizard step (looked at once per step, not per record), and the MSI product.
        if let step = draft.context.first,
            step != state.lastStep || draft.context.count != state.lastDepth || draft.context.last != state.lastHeading
        {
            state.lastStep = step
            state.lastDepth = draft.context.count
            state.lastHeading = draft.context.last
            if state.title == nil, draft.format == .deploymentHTML || draft.format == .lcscmdXML {
                state.title = Self.title(step)
            }
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
            Bytes.find("ProductName", in: draft.buffer) != nil || Bytes.find("Product: ", in: draft.buffer) != nil
                || Bytes.find("Product Name", in: draft.buffer) != nil
        {
            let text = Bytes.string(draft.buffer)
            state.productRole = resolver.role(ofProduct: text)
            if state.title == nil {
                // "Property(S): ProductName = …", "Product: … -- Installation completed successfully."
                if let value = text.range(of: "ProductName = ") ?? text.range(of: "Product: ") {
                    let name = text[value.upperBound...]
                    state.title = Self.title(String(name.range(of: " -- ").map { name[..<$0.lowerBound] } ?? name))
                }
            }
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

        // The first lines of a log without a step or product may name them in its text ("Rôle :
        // Standard Edition Server", "Activating role UserServices", "Written by step 'Activate …'").
        if draft.line - state.firstLine < Self.roleLines, state.stepRole == nil, state.productRole == nil,
            draft.kind == .text || draft.kind == .continuation,
            draft.format == .plainText || draft.format == .deploymentHTML || draft.format == .lcscmdXML
        {
            let text = Bytes.string(draft.buffer)
            if let role = resolver.role(ofStep: text) ?? resolver.role(ofProduct: text) {
                state.stepRole = role
                roleEvidence[state.index] = Evidence(path: draft.path, line: draft.line, text: text)
            }
        }

        let text = draft.buffer
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
        // A record an error or a noise signature explains (a listener, a connection, a count) opens nothing.
        // (Named fields are structure: a word in a field's value, "SIP listener", vetoes nothing.)
        if passesPrefilter || !draft.fields.isEmpty || columns?.isEmpty == false, finding?.type != .error,
            finding?.type != .noise || !draft.fields.isEmpty
        {
            let inSection = isFirewallSection(draft, record, &state)
            let namesFirewall = passesPrefilter && exceptionSignatures.contains { matches($0, draft, raw) }
            if inSection || namesFirewall {
                var entry = record()
                if entry.fields.isEmpty, let columns, !columns.isEmpty { entry.fields = columns }
                produced = extractExceptions(entry, &state, onEvent) || produced
            }
        }

        // A line about the firewall that states no entry and names no port or protocol is a heading or
        // a status line ("Task: Configure Windows Firewall", "CA_AddFirewallExceptions: done"): understood.
        if !produced, passesPrefilter, finding == nil, !portWords.firstMatch(in: raw),
            extractor.namesSection(record().text)
        {
            produced = true
        }

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
            attention?.firstMatch(in: raw) == true
                || (isFirewallSection(draft, record, &state) && portWords.firstMatch(in: raw))
        {
            state.notUnderstood += 1
            if isFirewallSection(draft, record, &state) { state.sectionNotUnderstood += 1 }
            let evidence = Evidence(path: draft.path, line: draft.line, text: record().text)
            noteNotUnderstood(evidence)
            onEvent(.notUnderstood(evidence))
        }
    }

    /// A log's title as shown: one line, at most 80 characters.
    static func title(_ text: String) -> String? {
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces)
        guard let line, !line.isEmpty else { return nil }
        return line.count > 80 ? String(line.prefix(79)) + "…" : line
    }

    /// Notes the computer a log states it ran on: its header's first lines, an MSI property, one of
    /// its first events (an export's events come from one computer; later ones are not looked at).
    func readServer(_ draft: RecordDraft, _ state: inout InputState) {
        var name: String?
        if draft.kind == .event || (draft.kind == .firewallRule && draft.event != nil) {
            guard state.eventsLookedAt < 10 else { return }
            state.eventsLookedAt += 1
            if var computer = draft.event?.computer {
                name = computer.withUTF8 { ComputerNames.isHostName($0) } ? computer : nil
            }
        } else if draft.line - state.firstLine < Self.serverLines || draft.kind == .property {
            name = computerNames.name(in: draft.buffer)
        }
        if let name { state.server = name }
    }

    /// Groups a line that looked relevant but matched nothing by its template.
    func noteNotUnderstood(_ evidence: Evidence) {
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
    func matches(_ compiled: CompiledSignature, _ draft: RecordDraft, _ raw: UnsafeRawBufferPointer) -> Bool {
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
        let raw = UnsafeRawBufferPointer(draft.buffer)
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

    // MARK: - Exceptions

    /// Reads an exception entry and stores what it opens; reports ports that are no ports, values
    /// that could not be read and entries with ruleset syntax as warnings. Whether anything of an
    /// entry was found.
    func extractExceptions(_ record: Record, _ state: inout InputState, _ onEvent: (ScanEvent) -> Void) -> Bool {
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
                (
                    "suspicious-exception-entry",
                    "Firewall exception entry with shell or ruleset syntax: check it by hand"
                ))
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
            // The same entry read twice (a table row and its text) is one event.
            if store(PendingException(exception: exception, explicitRole: explicitRole, input: state.index)) {
                onEvent(.exception(exception, signature: "exception-entry"))
            }
        }
        state.exceptionCount += extraction.exceptions.count
        return true
    }

}

extension Result {
    /// The success value, or nil.
    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
