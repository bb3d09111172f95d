/// Error codes as logs write them, normalized so that one failure has one spelling.
///
/// HRESULTs and OCS codes become `0x` and eight upper-case hex digits, whether the log wrote them
/// in hex (`0xc3ec796c`), in decimal (`3286842403`), or as a negative 32-bit number
/// (`-2147024891`); MSI and Win32 codes stay decimal (`1603`).
import Foundation

public struct ErrorCode: Sendable, Hashable, CustomStringConvertible {
    /// The code as an unsigned 32-bit value (a negative decimal is its two's complement).
    public let value: UInt32
    /// Whether it is written in hex (an HRESULT or an OCS code): written `0x` and eight digits;
    /// otherwise decimal (MSI and Win32 codes, 0-65535).
    public let isHex: Bool

    /// Reads `0xc3ec796c`, `3286842403`, `-2147024891` or `1603`; nil when the text is no code
    /// (not a number, or outside 32 bits).
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased().hasPrefix("0x") {
            guard trimmed.count > 2, trimmed.count <= 10, let value = UInt32(trimmed.dropFirst(2), radix: 16)
            else { return nil }
            self.value = value
            isHex = true
        } else if let number = Int64(trimmed), number >= Int64(Int32.min), number <= Int64(UInt32.max) {
            value = number < 0 ? UInt32(bitPattern: Int32(number)) : UInt32(number)
            isHex = number < 0 || number > 65535
        } else {
            return nil
        }
    }

    /// The normalized spelling: `0xC3EC796C`, or `1603`.
    public var description: String { isHex ? Self.hex(value) : String(value) }

    /// Every spelling a log may use for it: the normalized one, then unsigned decimal and signed
    /// 32-bit decimal for a hex code, or the hex form for a decimal one; without repeats.
    public var spellings: [String] {
        var forms = [description]
        if isHex {
            forms += [String(value), String(Int32(bitPattern: value))]
        } else {
            forms.append(Self.hex(value))
        }
        var unique: [String] = []
        for form in forms where !unique.contains(form) { unique.append(form) }
        return unique
    }

    /// The normalized form of one code (the text itself, trimmed, when it is no code).
    public static func normalize(_ text: String) -> String {
        ErrorCode(text)?.description ?? text.trimmingCharacters(in: .whitespaces)
    }

    /// `0x` and eight upper-case hex digits.
    public static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Every code written in `text`: hex codes of eight digits and decimal codes followed by their
    /// hex in parentheses (`3286842403 (0xC3E93C23)`), normalized, in order, without repeats.
    public static func codes(in text: String) -> [String] {
        var found: [String] = []
        let bytes = Array(text.utf8)
        var index = 0
        func isHex(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
        }
        func isWord(_ byte: UInt8) -> Bool { isHex(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) }
        while index + 10 <= bytes.count {
            defer { index += 1 }
            guard bytes[index] == 0x30, bytes[index + 1] | 0x20 == 0x78 else { continue }
            if index > 0, isWord(bytes[index - 1]) { continue }
            let digits = bytes[(index + 2)..<(index + 10)]
            guard digits.allSatisfy(isHex) else { continue }
            if index + 10 < bytes.count, isHex(bytes[index + 10]) { continue }
            let code = normalize("0x" + String(decoding: digits, as: UTF8.self))
            if !found.contains(code) { found.append(code) }
        }
        return found
    }

    /// What an HRESULT says about itself: severity, facility and code (`0x80070005` → Win32 error 5).
    public static func describeHRESULT(_ value: UInt32) -> String {
        let failure = value & 0x8000_0000 != 0
        let facility = (value >> 16) & 0x7FF
        let code = value & 0xFFFF
        let facilityName: String =
            switch facility {
            case 7: "Win32"
            case 4: "ITF (interface-specific)"
            case 1: "RPC"
            case 0: "null"
            default: "facility \(facility)"
            }
        return "\(failure ? "failure" : "success"), \(facilityName), code \(code)"
    }
}
