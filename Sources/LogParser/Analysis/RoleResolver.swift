import Knowledge

/// Finds the role a text names, from the identifiers in roles.yaml: the longest identifier wins,
/// so "Web Conferencing Edge" is the Edge, not the Front End's "Web Conferencing".
public struct RoleResolver: Sendable {
    private struct Identifier: Sendable {
        let lowered: String
        let role: String
    }

    private let steps: [Identifier]
    private let products: [Identifier]
    private let namesInText: [Identifier]
    private let files: [Identifier]
    private let programs: [String: String]

    public init(_ knowledge: KnowledgeBase) {
        func identifiers(_ keyPath: KeyPath<Role, [String]>) -> [Identifier] {
            knowledge.roles.flatMap { role in
                role[keyPath: keyPath].map { Identifier(lowered: $0.lowercased(), role: role.id) }
            }
            .sorted { $0.lowered.count > $1.lowered.count }
        }
        steps = identifiers(\.steps)
        products = identifiers(\.products)
        namesInText = (identifiers(\.programs) + identifiers(\.services)).sorted { $0.lowered.count > $1.lowered.count }
        files = identifiers(\.files)
        var programs: [String: String] = [:]
        for role in knowledge.roles {
            for program in role.programs where programs[program.lowercased()] == nil {
                programs[program.lowercased()] = role.id
            }
        }
        self.programs = programs
    }

    /// The role of the longest identifier found in `text` as whole words ("Director" is not in "Directory").
    private static func longest(_ identifiers: [Identifier], in text: String) -> String? {
        let lowered = text.lowercased()
        return identifiers.first { containsWord($0.lowered, in: lowered) }?.role
    }

    private static func containsWord(_ word: String, in text: String) -> Bool {
        var searchStart = text.startIndex
        while let found = text.range(of: word, range: searchStart..<text.endIndex) {
            let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
            let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
            let bounded = { (character: Character?) in character.map { !($0.isLetter || $0.isNumber) } ?? true }
            if bounded(before) && bounded(after) { return true }
            searchStart = text.index(after: found.lowerBound)
        }
        return false
    }

    /// The role of a wizard step or task name.
    public func role(ofStep text: String) -> String? { Self.longest(steps, in: text) }

    /// The role of an MSI product name.
    public func role(ofProduct text: String) -> String? { Self.longest(products, in: text) }

    /// The role of the programs and services a text names.
    public func role(namedIn text: String) -> String? { Self.longest(namesInText, in: text) }

    /// The role a log file's name suggests.
    public func role(ofFileName path: String) -> String? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return Self.longest(files, in: name)
    }

    /// The role that owns a program (`RTCArch.exe` → archiving), by its file name.
    public func role(ofProgram program: String) -> String? {
        let name = program.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last.map(String.init) ?? program
        return programs[name.lowercased()]
    }
}
