/// Error codes as logs write them, normalized so that one failure has one spelling.
///
/// HRESULTs and OCS codes become `0x` and eight upper-case hex digits, whether the log wrote them
/// in hex (`0xc3ec796c`), in decimal (`3286842403`), or as a negative 32-bit number
/// (`-2147024891`); MSI and Win32 codes stay decimal (`1603`).
import Foundation

public enum ErrorCode {
    /// The normalized form of one code.
    public static func normalize(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased().hasPrefix("0x"), let value = UInt32(trimmed.dropFirst(2), radix: 16) {
            return hex(value)
        }
        if let value = Int64(trimmed) {
            if value < 0, value >= Int64(Int32.min) { return hex(UInt32(bitPattern: Int32(value))) }
            if value > 65535, value <= Int64(UInt32.max) { return hex(UInt32(value)) }
            return String(value)
        }
        return trimmed
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
