import ScanModel

extension Analyzer {
    /// A surrounding record as evidence, its text cut at `surroundingTextLimit` bytes.
    static func evidence(path: String, line: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Evidence {
        var text = String(decoding: bytes, as: UTF8.self)
        if bytes.count >= surroundingTextLimit {
            text = String(text.prefix(surroundingTextLimit)) + "…"
        }
        return Evidence(path: path, line: line, text: text)
    }

    /// Keeps a record for the surroundings of findings before and after it.
    func remember(_ draft: RecordDraft) {
        let bytes = UnsafeBufferPointer(rebasing: draft.buffer[0..<min(draft.buffer.count, Self.surroundingTextLimit)])
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
}
