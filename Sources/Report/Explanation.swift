import Foundation
import Knowledge
import ScanModel

/// What ocslog knows about an error code or a known-issue id (`ocslog explain`).
public struct Explanation: Sendable, Codable {
    /// What was asked, as typed.
    public var query: String
    /// The normalized code (nil for a known-issue id).
    public var code: String?
    /// The other spellings of the same number (`0xC3EC796C` = `3286989164` = `-1008...`).
    public var spellings: [String]
    /// What the number decodes to when it is an HRESULT (severity, facility, code).
    public var decoded: String?
    public var meanings: [CodeMeaning]
    public var knownIssues: [Issue]
    /// Whether the knowledge base knows the code or id at all.
    public var known: Bool

    public struct Issue: Sendable, Codable {
        public var id: String
        public var title: String
        public var severity: Severity
        public var roles: [RoleID]
        public var explanation: String
        public var fix: String
        public var references: [String]
    }

    /// Explains `query`: a known-issue id (`KI-09`), a hex code (`0xC3EC796C`), a decimal code
    /// (`1603`, `3286842403`) or a negative one (`-2147024891`). Nil when it is none of those.
    public init?(_ query: String, knowledge: KnowledgeBase) {
        let trimmed = query.trimmingCharacters(in: .whitespaces)
        self.query = trimmed
        if let issue = knowledge.knownIssues.first(where: { $0.id.lowercased() == trimmed.lowercased() }) {
            code = nil
            spellings = []
            decoded = nil
            meanings = []
            knownIssues = [Issue(issue)]
            known = true
            return
        }
        guard let parsed = ErrorCode(trimmed) else { return nil }
        let normalized = parsed.description
        code = normalized
        let value: UInt32? = parsed.value
        self.spellings = parsed.spellings
        // A large value is an HRESULT (or an OCS code shaped like one); describe its parts.
        if let value, value > 0xFFFF {
            decoded = ErrorCode.describeHRESULT(value)
        } else {
            decoded = nil
        }
        var meanings = knowledge.meanings(of: normalized)
        // Win32 errors wrapped in an HRESULT (0x8007xxxx): the Win32 meaning too.
        if let value, value & 0xFFFF_0000 == 0x8007_0000 {
            meanings += knowledge.meanings(of: String(value & 0xFFFF)).filter { $0.kind == .win32 }
        }
        self.meanings = meanings
        let wrapped = value.map { $0 <= 0xFFFF ? ErrorCode.hex(0x8007_0000 | $0) : nil } ?? nil
        knownIssues = knowledge.knownIssues.filter { issue in
            issue.codes.contains(normalized) || (wrapped.map { issue.codes.contains($0) } ?? false)
        }.map(Issue.init)
        known = !meanings.isEmpty || !knownIssues.isEmpty
    }

    /// The explanation as text for a terminal.
    public var text: String {
        var out = ""
        if let code {
            out += code
            let others = spellings.filter { $0 != code }
            if !others.isEmpty { out += " (also written \(others.joined(separator: ", ")))" }
            out += "\n"
            if let decoded { out += "  decodes to: \(decoded)\n" }
            for meaning in meanings {
                out += "  \(meaning.kind.rawValue): \(meaning.meaning)\(meaning.origin == .likely ? " (likely)" : "")\n"
            }
            if !known {
                out += "  not in the knowledge base: no known issue or meaning is recorded for this code.\n"
                out += "  Add one with `ocslog scan --knowledge DIR` (a codes: or known-issues: entry).\n"
            }
        }
        for issue in knownIssues {
            out += "\(code == nil ? "" : "\n")\(issue.id): \(issue.title) (\(issue.severity))\n"
            if !issue.roles.isEmpty { out += "  roles: \(issue.roles.map(\.rawValue).joined(separator: ", "))\n" }
            out += "  why: \(issue.explanation)\n"
            out += "  fix: \(issue.fix)\n"
            if !issue.references.isEmpty { out += "  references: \(issue.references.joined(separator: ", "))\n" }
        }
        return out
    }
}

extension Explanation.Issue {
    init(_ issue: KnownIssue) {
        self.init(
            id: issue.id, title: issue.title, severity: issue.severity, roles: issue.roles,
            explanation: issue.explanation, fix: issue.fix, references: issue.references)
    }
}
