import Knowledge
import ScanModel

#if canImport(Glibc)
    import Glibc
#endif

/// Finds the role a text names, from the identifiers in roles.yaml: the longest identifier wins,
/// so "Web Conferencing Edge" is the Edge, not the Front End's "Web Conferencing". Both sides are
/// compared lower-cased, with '-', '_' and CamelCase joints read as spaces.
public struct RoleResolver: Sendable {
    private struct Identifier: Sendable {
        let lowered: [UInt8]
        let role: RoleID
    }

    private let steps: [Identifier]
    private let products: [Identifier]
    private let namesInText: [Identifier]
    private let files: [Identifier]
    private let programs: [String: RoleID]

    public init(_ knowledge: KnowledgeBase) {
        func identifiers(_ keyPath: KeyPath<Role, [String]>) -> [Identifier] {
            knowledge.roles.flatMap { role in
                role[keyPath: keyPath].map { Identifier(lowered: Self.lowered($0), role: role.id) }
            }
            .sorted { $0.lowered.count > $1.lowered.count }
        }
        steps = identifiers(\.steps)
        products = identifiers(\.products)
        namesInText = (identifiers(\.programs) + identifiers(\.services)).sorted { $0.lowered.count > $1.lowered.count }
        files = identifiers(\.files)
        var programs: [String: RoleID] = [:]
        for role in knowledge.roles {
            for program in role.programs where programs[program.lowercased()] == nil {
                programs[program.lowercased()] = role.id
            }
        }
        self.programs = programs
    }

    /// ASCII letters lower-cased, other bytes kept (identifiers and logs compare byte-wise, no Foundation).
    /// Hyphens and underscores read as spaces: "Front-End-Server" names the "Front End Server" product.
    /// Words run together in CamelCase read apart: "ActivateEnterpriseFrontEnd", "EdgeServer:pool".
    private static func lowered(_ text: String) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count + 4)
        var previous: UInt8 = 0
        for byte in text.utf8 {
            let isUpper = byte >= 0x41 && byte <= 0x5A
            if isUpper, previous >= 0x61, previous <= 0x7A { result.append(0x20) }
            result.append(byte == 0x2D || byte == 0x5F ? 0x20 : Bytes.lower(byte))
            previous = byte
        }
        return result
    }

    /// The role of the longest identifier found in `text` as whole words ("Director" is not in "Directory").
    private static func longest(_ identifiers: [Identifier], in text: String) -> RoleID? {
        let haystack = lowered(text)
        return identifiers.first { containsWord($0.lowered, in: haystack) }?.role
    }

    /// Linear in the text for a word of fixed length: a long line costs its length.
    private static func containsWord(_ word: [UInt8], in text: [UInt8]) -> Bool {
        guard !word.isEmpty, word.count <= text.count else { return false }
        return text.withUnsafeBufferPointer { haystack in
            word.withUnsafeBufferPointer { needle in
                guard let base = haystack.baseAddress, let wordBase = needle.baseAddress else { return false }
                var offset = 0
                while offset + needle.count <= haystack.count {
                    // memchr for the first byte, memcmp for the rest: C speed in every build.
                    guard
                        let found = memchr(
                            base + offset, Int32(wordBase[0]), haystack.count - offset - needle.count + 1)
                    else { return false }
                    let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    guard memcmp(base + index, wordBase, needle.count) == 0 else {
                        offset = index + 1
                        continue
                    }
                    let before = index == 0 ? nil : haystack[index - 1]
                    let after = index + needle.count == haystack.count ? nil : haystack[index + needle.count]
                    if isBoundary(before), isBoundary(after) { return true }
                    offset = index + 1
                }
                return false
            }
        }
    }

    /// Whether a byte next to a match ends a word: not an ASCII letter or digit (non-ASCII bytes count as letters).
    private static func isBoundary(_ byte: UInt8?) -> Bool {
        guard let byte else { return true }
        let isWordByte =
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
            || byte >= 0x80
        return !isWordByte
    }

    /// The role of a wizard step or task name.
    public func role(ofStep text: String) -> RoleID? { Self.longest(steps, in: text) }

    /// The role of an MSI product name.
    public func role(ofProduct text: String) -> RoleID? { Self.longest(products, in: text) }

    /// The role of the programs and services a text names.
    public func role(namedIn text: String) -> RoleID? { Self.longest(namesInText, in: text) }

    /// The role a log file's name suggests.
    public func role(ofFileName path: String) -> RoleID? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return Self.longest(files, in: name)
    }

    /// The role that owns a program (`RTCArch.exe` → archiving), by its file name.
    public func role(ofProgram program: String) -> RoleID? {
        let name = program.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last.map(String.init) ?? program
        return programs[name.lowercased()]
    }
}
