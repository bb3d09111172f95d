import Knowledge
import PCRE2
import ScanModel

/// A signature with its matchers made and its condition in the form records are checked against
/// (a class: it is read for every record, and is never copied).
final class CompiledSignature {
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
        kinds = (signature.when?.kinds ?? []).reduce(0) { $0 | $1.bit }
        numbers = signature.when?.numbers ?? []
        outcome = signature.when?.outcome
        levels = signature.when?.levels ?? []
        contextMatcher = signature.when?.context?.makeMatcher()
        groupNumbers = signature.pattern?.groupNumbers ?? [:]
    }
}
