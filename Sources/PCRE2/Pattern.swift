// The only file in ocslog that talks to C: PCRE2 (8-bit code units) behind value-typed results.
import CPCRE2

#if canImport(Glibc)
    import Glibc
#endif

/// Options for compiling a ``Pattern``; each maps to one PCRE2 compile option.
public struct PatternOptions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Letters match regardless of case (`PCRE2_CASELESS`).
    public static let caseInsensitive = PatternOptions(rawValue: 1 << 0)
    /// `^` and `$` match at internal newlines (`PCRE2_MULTILINE`).
    public static let multiline = PatternOptions(rawValue: 1 << 1)
    /// `.` also matches a newline (`PCRE2_DOTALL`).
    public static let dotMatchesNewline = PatternOptions(rawValue: 1 << 2)
    /// Whitespace and `#` comments in the pattern are ignored (`PCRE2_EXTENDED`).
    public static let extended = PatternOptions(rawValue: 1 << 3)
    /// `\d`, `\w` and case folding use Unicode properties (`PCRE2_UCP`); slower, rarely needed.
    public static let unicodeProperties = PatternOptions(rawValue: 1 << 4)

    var pcre2Flags: UInt32 {
        // UTF mode so that non-ASCII letters are one character, and MATCH_INVALID_UTF so that a
        // subject with invalid UTF-8 is searched (invalid sequences never match) instead of failing.
        var flags = UInt32(PCRE2_UTF) | UInt32(PCRE2_MATCH_INVALID_UTF)
        if contains(.caseInsensitive) { flags |= UInt32(PCRE2_CASELESS) }
        if contains(.multiline) { flags |= UInt32(PCRE2_MULTILINE) }
        if contains(.dotMatchesNewline) { flags |= UInt32(PCRE2_DOTALL) }
        if contains(.extended) { flags |= UInt32(PCRE2_EXTENDED) }
        if contains(.unicodeProperties) { flags |= UInt32(PCRE2_UCP) }
        return flags
    }
}

/// A pattern that PCRE2 rejected, with PCRE2's own message and where in the pattern it stopped.
public struct PatternCompileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The pattern as given.
    public let pattern: String
    /// PCRE2's error message (`pcre2_get_error_message`).
    public let message: String
    /// The byte offset in the pattern where compilation failed.
    public let offset: Int
    /// PCRE2's numeric error code.
    public let code: Int32

    public var description: String {
        "invalid regular expression at offset \(offset): \(message) in \"\(pattern)\""
    }
}

/// A compiled PCRE2 regular expression; thread-safe to share, matched through a ``Matcher``.
public final class Pattern: @unchecked Sendable {
    // The compiled code is immutable after init, and PCRE2 allows concurrent matching with one
    // compiled pattern as long as each thread has its own match data (held by `Matcher`).
    fileprivate let code: OpaquePointer
    /// The pattern's source text.
    public let source: String
    /// The options it was compiled with.
    public let options: PatternOptions
    /// Whether PCRE2's JIT compiler produced machine code for this pattern (`pcre2_jit_compile`).
    public let isJITCompiled: Bool
    /// The number of capturing groups (not counting the whole match).
    public let captureCount: Int
    /// Named groups and their numbers.
    public let groupNumbers: [String: Int]

    /// The most backtracking steps one match may take before it is abandoned as no match.
    public static let matchLimit: UInt32 = 2_000_000

    /// Compiles `source`; uses the JIT when `jit` is true and available, else the interpreter.
    public init(_ source: String, options: PatternOptions = [], jit: Bool = true) throws(PatternCompileError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled: OpaquePointer? =
            source.utf8.withContiguousStorageIfAvailable { bytes in
                pcre2_compile_8(bytes.baseAddress, bytes.count, options.pcre2Flags, &errorCode, &errorOffset, nil)
            }
            ?? {
                var copy = Array(source.utf8)
                return copy.withUnsafeMutableBufferPointer { bytes in
                    pcre2_compile_8(bytes.baseAddress, bytes.count, options.pcre2Flags, &errorCode, &errorOffset, nil)
                }
            }()
        guard let compiled else {
            throw PatternCompileError(
                pattern: source, message: Self.message(for: errorCode), offset: errorOffset, code: errorCode)
        }
        self.code = compiled
        self.source = source
        self.options = options
        self.isJITCompiled = jit && pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        var count: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &count)
        self.captureCount = Int(count)
        self.groupNumbers = Self.readNameTable(compiled)
    }

    deinit { pcre2_code_free_8(code) }

    /// Whether this build of PCRE2 has a JIT compiler for this machine (`PCRE2_CONFIG_JIT`).
    public static var isJITAvailable: Bool {
        var available: UInt32 = 0
        pcre2_config_8(UInt32(PCRE2_CONFIG_JIT), &available)
        return available == 1
    }

    /// A new matcher with its own match data, to reuse for every subject on one thread.
    public func makeMatcher() -> Matcher { Matcher(pattern: self) }

    /// Whether the pattern matches anywhere in `text` (convenience for tests and data loading).
    public func matches(_ text: String) -> Bool {
        let matcher = makeMatcher()
        var copy = text
        return copy.withUTF8 { matcher.firstMatch(in: UnsafeRawBufferPointer($0)) }
    }

    /// The first match in `text` with every group's substring, or nil (not for hot paths).
    public func firstMatch(in text: String) -> MatchResult? {
        let matcher = makeMatcher()
        var copy = text
        return copy.withUTF8 { bytes -> MatchResult? in
            let raw = UnsafeRawBufferPointer(bytes)
            guard matcher.firstMatch(in: raw) else { return nil }
            return matcher.result(in: raw)
        }
    }

    static func message(for errorCode: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBufferPointer {
            pcre2_get_error_message_8(errorCode, $0.baseAddress, $0.count)
        }
        guard length > 0 else { return "PCRE2 error \(errorCode)" }
        return String(decoding: buffer[0..<Int(length)], as: UTF8.self)
    }

    private static func readNameTable(_ code: OpaquePointer) -> [String: Int] {
        var nameCount: UInt32 = 0
        var entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>?
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMECOUNT), &nameCount)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize)
        pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_NAMETABLE), &table)
        guard nameCount > 0, let table else { return [:] }
        var names: [String: Int] = [:]
        for index in 0..<Int(nameCount) {
            // Each entry: the group number in two bytes (most significant first), then the
            // NUL-terminated name, padded to the entry size.
            let entry = table + index * Int(entrySize)
            let number = Int(entry[0]) << 8 | Int(entry[1])
            var nameBytes: [UInt8] = []
            var offset = 2
            while offset < Int(entrySize), entry[offset] != 0 {
                nameBytes.append(entry[offset])
                offset += 1
            }
            names[String(decoding: nameBytes, as: UTF8.self)] = number
        }
        return names
    }
}

/// The groups of one match: byte ranges into the subject and their text.
public struct MatchResult: Sendable, Equatable {
    /// The byte range of each group (index 0 is the whole match); nil for a group that did not take part.
    public let ranges: [Range<Int>?]
    /// The text of each group; nil where the group did not take part.
    public let groups: [String?]
    /// Named groups and their numbers, as in the pattern.
    public let groupNumbers: [String: Int]

    /// The text of the named group, or nil when it did not take part or does not exist.
    public subscript(name: String) -> String? {
        guard let number = groupNumbers[name], number < groups.count else { return nil }
        return groups[number]
    }
}

/// Matches abandoned at ``Pattern/matchLimit``, counted per thread: an analyzer reads one input on
/// one thread, so the difference across an input is that input's (reported in its `skipped`).
public enum AbandonedMatches {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    private static var counter: UnsafeMutablePointer<Int> {
        if let existing = pthread_getspecific(key) { return existing.assumingMemoryBound(to: Int.self) }
        let created = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        created.initialize(to: 0)
        pthread_setspecific(key, created)
        return created
    }

    /// How many matches this thread has abandoned so far.
    public static var onThisThread: Int { counter.pointee }

    static func count() { counter.pointee += 1 }
}

/// Matches one ``Pattern`` against byte subjects, reusing one block of PCRE2 match data.
///
/// Not thread-safe: give each thread its own matcher. After a successful match the group
/// ranges stay readable until the next call.
public final class Matcher {
    /// The pattern this matcher runs.
    public let pattern: Pattern
    private let matchData: OpaquePointer
    private let context: OpaquePointer?
    /// How many matches were abandoned because they exceeded ``Pattern/matchLimit``.
    public private(set) var abandonedMatches = 0
    private var lastSubjectLength = 0
    /// A valid address to hand PCRE2 for an empty subject, which may have no base address.
    private let emptySubject: UnsafeMutablePointer<UInt8>

    fileprivate init(pattern: Pattern) {
        self.pattern = pattern
        // A match data block sized for the pattern's groups, made once and reused for every subject.
        guard let data = pcre2_match_data_create_from_pattern_8(pattern.code, nil) else {
            fatalError("PCRE2 could not allocate match data (out of memory)")
        }
        self.matchData = data
        self.context = pcre2_match_context_create_8(nil)
        self.emptySubject = .allocate(capacity: 1)
        emptySubject.initialize(to: 0)
        if let context {
            pcre2_set_match_limit_8(context, Pattern.matchLimit)
            pcre2_set_depth_limit_8(context, Pattern.matchLimit / 4)
        }
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        if let context { pcre2_match_context_free_8(context) }
        emptySubject.deallocate()
    }

    /// Searches `subject` (UTF-8 bytes, by byte count) from `startOffset`; true when it matched.
    ///
    /// Invalid UTF-8 in the subject never matches but does not stop the search elsewhere.
    @inline(__always)
    public func firstMatch(in subject: UnsafeRawBufferPointer, from startOffset: Int = 0) -> Bool {
        let base = subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptySubject)
        lastSubjectLength = subject.count
        let result: Int32
        if pattern.isJITCompiled {
            result = pcre2_jit_match_8(pattern.code, base, subject.count, startOffset, 0, matchData, context)
        } else {
            result = pcre2_match_8(pattern.code, base, subject.count, startOffset, 0, matchData, context)
        }
        if result >= 0 { return true }
        if result != PCRE2_ERROR_NOMATCH {
            abandonedMatches += 1
            AbandonedMatches.count()
        }
        return false
    }

    /// The byte range of group `number` in the last successful match (0 is the whole match).
    public func range(ofGroup number: Int) -> Range<Int>? {
        guard number >= 0, number <= pattern.captureCount else { return nil }
        guard let ovector = pcre2_get_ovector_pointer_8(matchData) else { return nil }
        let start = ovector[2 * number]
        let end = ovector[2 * number + 1]
        // PCRE2_UNSET is ~(size_t)0, which is -1 as Swift's Int.
        guard start >= 0, end >= 0, start <= end, end <= lastSubjectLength else {
            return nil
        }
        return start..<end
    }

    /// The byte range of the named group in the last successful match.
    public func range(ofGroup name: String) -> Range<Int>? {
        guard let number = pattern.groupNumbers[name] else { return nil }
        return range(ofGroup: number)
    }

    /// Every group of the last successful match in `subject`, decoded as text.
    public func result(in subject: UnsafeRawBufferPointer) -> MatchResult {
        var ranges: [Range<Int>?] = []
        var groups: [String?] = []
        for number in 0...pattern.captureCount {
            let range = range(ofGroup: number)
            ranges.append(range)
            groups.append(range.map { String(decoding: subject[$0], as: UTF8.self) })
        }
        return MatchResult(ranges: ranges, groups: groups, groupNumbers: pattern.groupNumbers)
    }
}
