import ArgumentParser
import Foundation
import LogParser
import ScanModel
import SystemCalls

/// `--color auto|always|never`.
enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

/// Options every command that prints for people takes.
struct TerminalOptions: ParsableArguments {
    @Option(
        name: .customLong("color"),
        help: "Colour: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: ColorChoice = .auto

    @Flag(name: .shortAndLong, help: "No progress line on standard error.")
    var quiet = false

    /// Settles the choices for this run (colour for standard output, progress for standard error).
    func apply() {
        Style.choice = color
        Progress.quiet = quiet
    }
}

/// How many inputs are read at once (`--jobs`), for the commands that read logs.
struct ReadingOptions: ParsableArguments {
    @Option(
        help:
            "Read this many inputs at once (default: the number of cores); results stay in input order. With --format jsonl or --explain, one."
    )
    var jobs: Int = CommandSupport.cores

    @Option(
        help: ArgumentHelp(
            "The computer every input ran on, over what the logs state (a host name: FE01 or fe01.contoso.com).",
            valueName: "name"))
    var server: String?

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if let server {
            let labels = server.split(separator: ".", omittingEmptySubsequences: false)
            let valid =
                (1...253).contains(server.utf8.count) && server.contains(where: \.isLetter)
                && labels.allSatisfy { label in
                    (1...63).contains(label.count) && label.first != "-"
                        && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                }
            guard valid else {
                throw ValidationError(
                    "--server '\(server)' is no host name: letters, digits and hyphens, labels joined by dots (FE01, fe01.contoso.com)"
                )
            }
        }
    }
}

/// ANSI colours, only where they help: severities, roles, headings.
struct Style {
    nonisolated(unsafe) static var choice = ColorChoice.auto
    let enabled: Bool

    /// The style for a file descriptor: colour when asked for, or on a terminal without NO_COLOR or TERM=dumb.
    static func forDescriptor(_ descriptor: Int32) -> Style {
        switch choice {
        case .always: return Style(enabled: true)
        case .never: return Style(enabled: false)
        case .auto:
            let environment = ProcessInfo.processInfo.environment
            if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return Style(enabled: false) }
            if environment["TERM"] == "dumb" { return Style(enabled: false) }
            return Style(enabled: OS.isTerminal(descriptor))
        }
    }

    static var forStandardOutput: Style { forDescriptor(OS.standardOutput) }

    func paint(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    func severity(_ severity: Severity, _ text: String? = nil) -> String {
        let label = text ?? severity.rawValue
        switch severity {
        case .error: return paint(label, "1;31")
        case .warning: return paint(label, "33")
        case .info: return paint(label, "2")
        }
    }

    func role(_ id: String) -> String { paint(id, "1;36") }
    func role(_ id: RoleID) -> String { role(id.rawValue) }
    func heading(_ text: String) -> String { paint(text, "1") }
}

/// The progress line on standard error during long reads: bytes and lines read, throughput,
/// inputs done of all, and an ETA when the total size is known. Shown only on a terminal, only
/// after the first second, never with --quiet; redrawn at most five times a second.
final class Progress: @unchecked Sendable {
    nonisolated(unsafe) static var quiet = false

    private let enabled: Bool
    private let totalBytes: Int?
    private let inputCount: Int
    private let start = DispatchTime.now().uptimeNanoseconds
    /// How long a read must last before the line appears (`OCSLOG_PROGRESS_DELAY_MS`, default 1000; tests lower it).
    private let delay: UInt64 = {
        let milliseconds = ProcessInfo.processInfo.environment["OCSLOG_PROGRESS_DELAY_MS"].flatMap { UInt64($0) }
        return (milliseconds ?? 1000) * 1_000_000
    }()
    private var lastDraw: UInt64 = 0
    private var doneBytes = 0
    private var doneLines = 0
    private var doneInputs = 0
    private var shown = false
    /// Where each input being read has got to (several at once with --jobs).
    private var reading: [Int: (bytes: Int, lines: Int)] = [:]
    private let lock = NSLock()

    /// A progress display for `inputs` (their sizes are summed when all are regular files).
    init(inputs: [InputFile], enabled: Bool = true) {
        self.enabled = enabled && !Self.quiet && OS.isTerminal(OS.standardError)
        inputCount = inputs.count
        var total = 0
        var known = true
        for input in inputs {
            if input.path != "-", let status = try? OS.status(ofPath: input.path), status.kind == .regular {
                total += status.size
            } else {
                known = false
            }
        }
        totalBytes = known ? total : nil
    }

    /// The hook for `Analyzer.progress` (called from the reading threads).
    func update(input: Int, byteOffset: Int, line: Int) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        reading[input] = (byteOffset, line)
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - start >= delay, now - lastDraw > 200_000_000 else { return }
        lastDraw = now
        let inFlight = reading.values.reduce((0, 0)) { ($0.0 + $1.bytes, $0.1 + $1.lines) }
        draw(bytes: doneBytes + inFlight.0, lines: doneLines + inFlight.1, now: now)
    }

    /// An input was read completely (with --jobs, when its result is merged).
    func finished(bytes: Int, lines: Int) {
        lock.lock()
        defer { lock.unlock() }
        reading.removeValue(forKey: doneInputs)
        doneInputs += 1
        doneBytes += bytes
        doneLines += lines
    }

    private func draw(bytes: Int, lines: Int, now: UInt64) {
        let seconds = Double(now - start) / 1e9
        let rate = Double(bytes) / seconds
        var line = "ocslog: \(Self.size(Double(bytes))) read, \(lines) lines, \(Self.size(rate))/s, "
        line += "\(doneInputs)/\(inputCount) inputs"
        if let totalBytes, totalBytes > 0, rate > 0 {
            let percent = min(100, bytes * 100 / totalBytes)
            let remaining = Double(max(0, totalBytes - bytes)) / rate
            line += ", \(percent)%, ETA \(Self.duration(remaining))"
        }
        OS.writeError("\r\u{1B}[K\(line)")
        shown = true
    }

    /// Clears the line before the results are printed.
    func clear() {
        lock.lock()
        defer { lock.unlock() }
        if shown { OS.writeError("\r\u{1B}[K") }
        shown = false
    }

    static func size(_ bytes: Double) -> String {
        if bytes >= 1e9 { return String(format: "%.2f GB", bytes / 1e9) }
        if bytes >= 1e6 { return String(format: "%.1f MB", bytes / 1e6) }
        return String(format: "%.0f kB", bytes / 1e3)
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole >= 60 ? "\(whole / 60)m\(String(format: "%02d", whole % 60))s" : "\(whole)s"
    }
}
