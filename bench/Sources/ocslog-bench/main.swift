// Benchmarks for ocslog's building blocks: generates logs and times the reader on them.
import ArgumentParser
import Foundation
import LogParser
import PCRE2

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocslog-bench",
        abstract: "Generate benchmark logs and time ocslog's reader on them (see bench/README.md).",
        subcommands: [Generate.self, Read.self])
}

/// Writes a deterministic MSI-style log of a given size, with about 2 % interesting lines.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a deterministic verbose-MSI-style log.")

    @Option(help: "Size in megabytes (10^6 bytes).")
    var megabytes: Int = 200

    @Option(help: "Output file.")
    var output: String

    @Option(help: "utf-8 or utf-16le.")
    var encoding: String = "utf-8"

    func run() throws {
        let boring = [
            "MSI (s) (84:34) [12:12:03:391]: Doing action: InstallFiles",
            "MSI (s) (84:34) [12:12:03:392]: Component: RTCSrv; Installed: Absent;   Request: Local;   Action: Local",
            "Property(S): ProductToBeRegistered = 1",
            "MSI (s) (84:34) [12:12:03:393]: Note: 1: 2205 2:  3: Error",
            "MSI (c) (12:5C) [12:12:03:394]: PROPERTY CHANGE: Adding INSTALLLEVEL property. Its value is '1'.",
            "Action start 16:34:29: InstallFiles.",
            "MSI (s) (84:34) [12:12:03:395]: Executing op: FileCopy(SourceName=RTCSrv.exe,DestName=RTCSrv.exe,Attributes=512)",
            "<tr><td class=\"task\">Check prerequisites</td><td>&lt;Success&gt;</td></tr>",
        ]
        let interesting = [
            "MSI (s) (84:34) [12:12:04:001]: Adding firewall exception for C:\\Program Files\\Microsoft Office Communications Server 2007 R2\\Server\\Core\\RTCSrv.exe",
            "Action ended 16:34:29: InstallFiles. Return value 3.",
            "Error 1920. Service 'Office Communications Server Front-End' (RTCSRV) failed to start.",
        ]
        let target = megabytes * 1_000_000
        var text = ""
        text.reserveCapacity(1 << 20)
        guard
            let handle = FileHandle(forWritingAtPath: output)
                ?? {
                    FileManager.default.createFile(atPath: output, contents: nil)
                    return FileHandle(forWritingAtPath: output)
                }()
        else { throw ValidationError("cannot write \(output)") }
        handle.truncateFile(atOffset: 0)
        let wide = encoding.lowercased() == "utf-16le"
        if wide { handle.write(Data([0xFF, 0xFE])) }
        var written = 0
        var counter: UInt64 = 0x9E37_79B9
        while written < target {
            // A small linear congruential generator: the same file every time.
            counter = counter &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let pick = Int((counter >> 33) % 1000)
            let line = pick < 20 ? interesting[pick % interesting.count] : boring[pick % boring.count]
            text += line
            text += "\r\n"
            if text.utf8.count >= 1 << 20 {
                let data = wide ? Data(text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }) : Data(text.utf8)
                handle.write(data)
                written += data.count
                text.removeAll(keepingCapacity: true)
            }
        }
        try handle.close()
    }
}

/// Reads a file with `LineReader`, optionally counting lines that match one PCRE2 pattern.
struct Read: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time the line reader (and one PCRE2 pattern) on a file.")

    @Argument(help: "The file to read, or - for standard input.")
    var path: String

    @Option(help: "A case-insensitive PCRE2 pattern; count the lines it matches.")
    var pattern: String?

    @Flag(help: "Use PCRE2's interpreter instead of the JIT.")
    var noJIT = false

    func run() throws {
        let matcher = try pattern.map { try Pattern($0, options: .caseInsensitive, jit: !noJIT).makeMatcher() }
        var matches = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let summary = try InputFile(path: path).read { line in
            if let matcher, matcher.firstMatch(in: line.rawBytes) { matches += 1 }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let megabytes = Double(summary.bytes) / 1e6
        print(
            "lines=\(summary.lines) matches=\(matches) bytes=\(summary.bytes) seconds=\(String(format: "%.3f", seconds)) "
                + "MB/s=\(String(format: "%.0f", megabytes / seconds)) lines/s=\(String(format: "%.0f", Double(summary.lines) / seconds))"
        )
    }
}
