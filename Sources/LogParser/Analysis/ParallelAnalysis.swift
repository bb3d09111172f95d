import Foundation
import Knowledge
import ScanModel

extension Analyzer {
    // MARK: - Several inputs at once

    /// Reads `inputs` on up to `jobs` threads (one analyzer per input, sharing the compiled
    /// knowledge) and merges what each found in input order, so the result is the same as reading
    /// them one after another. `onInput` is called on the calling thread, in input order, with each
    /// input's results (one per log it held) or error; `onProgress` from the reading threads (input index, byte offset, line).
    public func analyze(
        _ inputs: [InputFile], jobs: Int,
        onProgress: (@Sendable (_ input: Int, _ byteOffset: Int, _ line: Int) -> Void)? = nil,
        onInput: (Int, Result<[InputResult], Error>) -> Void
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
                let count = box.analyzer.inputs.count
                absorb(box.analyzer)
                onInput(index, .success(Array(self.inputs.suffix(count))))
            case .failure(let error):
                onInput(index, .failure(error))
            }
        }
        workers.wait()
    }

    /// Takes over what another analyzer found in its inputs, as if this one had read them next.
    func absorb(_ other: Analyzer) {
        let offset = inputs.count
        let (findingsStart, exceptionsStart) = (findings.count, exceptions.count)
        for var pending in other.exceptions {
            pending.input += offset
            store(pending)
        }
        for var finding in other.findings {
            finding.input += offset
            finding.cause?.input += offset
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
        for (input, coverage) in other.firewallCoverage { firewallCoverage[input + offset] = coverage }
        for (input, blocks) in other.firewallBlocks { firewallBlocks[input + offset] = blocks }
        firewallSnapshotInputs.formUnion(other.firewallSnapshotInputs.map { $0 + offset })
        firewallEventInputs.formUnion(other.firewallEventInputs.map { $0 + offset })
        for (note, input) in other.firewallNotes {
            if firewallNotes.count < ScanResult.maximumFirewallNotes {
                firewallNotes.append((note, input + offset))
            } else {
                firewallNotesLeftOut += 1
            }
        }
        firewallNotesLeftOut += other.firewallNotesLeftOut
        otherExceptions += other.otherExceptions.map { pending in
            var pending = pending
            pending.input += offset
            return pending
        }
        inputs += other.inputs
        rolesWithEvidence.formUnion(other.rolesWithEvidence)
        compact(findingsFrom: findingsStart, exceptionsFrom: exceptionsStart)
    }

}

/// An analyzer handed from the thread that filled it to the one that merges it (never used by both at once).
struct WorkerBox: @unchecked Sendable {
    let analyzer: Analyzer
    init(_ analyzer: Analyzer) { self.analyzer = analyzer }
}

/// The inputs still to read and what each worker produced, shared by the reading threads and
/// the merging one.
final class WorkerSlots: @unchecked Sendable {
    let condition = NSCondition()
    var nextIndex = 0
    var merged = 0
    let window: Int
    var results: [Result<WorkerBox, Error>?]

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
