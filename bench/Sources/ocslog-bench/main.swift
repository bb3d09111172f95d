// Benchmarks for ocslog's building blocks: generates logs and times the reader on them.
import ArgumentParser
import Foundation
import LogParser
import PCRE2
import ScanModel

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocslog-bench",
        abstract:
            "Generate benchmark logs and time ocslog's reader on them (bench/scan.py and bench/reader.py drive it).",
        subcommands: [Generate.self, Read.self])
}

/// Writes a deterministic mixed corpus: logs of every format ocslog reads, one after another as
/// they arrive through a pipe (verbose MSI in UTF-8 and UTF-16LE, deployment-wizard HTML, LCSCmd
/// XML, event exports in text and CSV), with about 2 % lines of interest.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a deterministic mixed corpus of setup logs.")

    @Option(help: "Size in megabytes (10^6 bytes).")
    var megabytes: Int = 1000

    @Option(help: "Output file.")
    var output: String

    @Flag(help: "Leave out the UTF-16LE logs (the part ripgrep and grep read the way ocslog does).")
    var utf8Only = false

    @Option(help: "Per mille of lines of interest (firewall exceptions, errors, warnings).")
    var interestingPerMille: Int = 20

    @Option(help: "Only this format: mixed, msi, msi-utf16, html, xml, event, csv.")
    var only: String = "mixed"

    /// A small linear congruential generator: the same corpus every time.
    struct Random {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    static let msiBoring = [
        "MSI (s) (84:34) [12:12:03:391]: Doing action: InstallFiles",
        "MSI (s) (84:34) [12:12:03:392]: Component: RTCSrv; Installed: Absent;   Request: Local;   Action: Local",
        "Property(S): ProductToBeRegistered = 1",
        "MSI (c) (12:5C) [12:12:03:394]: PROPERTY CHANGE: Adding INSTALLLEVEL property. Its value is '1'.",
        "Action start 12:12:03: InstallFiles.",
        "MSI (s) (84:34) [12:12:03:395]: Executing op: FileCopy(SourceName=RTCSrv.dll,DestName=RTCSrv.dll,Attributes=512)",
        "Action ended 12:12:04: InstallFiles. Return value 1.",
        "MSI (s) (84:34) [12:12:03:396]: Executing op: ComponentRegister(ComponentId={5C0AD1B5-7E2F-4C3B-9C59-2D0D4D1B5A21},KeyPath=C:\\Program Files\\Microsoft Office Communications Server 2007 R2\\Server\\Core\\RTCHost.dll,State=3,,Disk=1,SharedDllRefCount=0,BinaryType=0)",
        "MSI (s) (84:34) [12:12:03:397]: Resolving source.",
        "MSI (s) (84:34) [12:12:03:398]: Note: 1: 2205 2:  3: Registry",
    ]
    static let msiInteresting = [
        "MSI (s) (84:34) [12:12:04:001]: Adding firewall exception for C:\\Program Files\\Microsoft Office Communications Server 2007 R2\\Server\\Core\\RTCSrv.exe",
        "Error 1920. Service 'Office Communications Server Front-End' (RTCSRV) failed to start.",
        "CA_ConfigureServices: Failed to set service account RTCService: 0x80070005 Access is denied.",
        "MSI (s) (84:34) [12:12:04:002]: Warning: the service RTCSRV did not start within 30 seconds",
    ]
    static let htmlBoring = [
        "  <div>Creating container CN=RTC Service,CN=Microsoft,CN=System,DC=example,DC=com</div>",
        "  <div>Execution Result: &lt;Success&gt;</div>",
        "  <div>Checking the schema version of forest example.com</div>",
        " <div class=\"task\" name=\"Create global settings\">",
        " </div>",
        "  <div>Setting permissions on CN=Pools,CN=RTC Service,CN=Microsoft,CN=System,DC=example,DC=com</div>",
    ]
    static let htmlInteresting = [
        "  <div>Adding firewall exception: Office Communications Server Front-End, TCP/5061</div>",
        "  <div class=\"failure\">Execution Result: Failure [0xC3EC796C] The system clock or the version information of the server is not valid.</div>",
        "  <div>Warning: the certificate for fe01.example.com expires in 20 days</div>",
    ]
    static let xmlBoring = [
        "<Task name=\"Check prerequisites\"><Entry>Director dir01.example.com in pool dirpool.example.com</Entry>",
        "<ExecutionResult>&lt;Success&gt;</ExecutionResult></Task>",
        "<Entry>Registering the server with the pool dirpool.example.com</Entry>",
        "<Entry>Writing settings to the WMI store</Entry>",
    ]
    static let xmlInteresting = [
        "<Entry>Adding firewall exception: Office Communications Server Director, ports 5060 and 5061 (TCP)</Entry>",
        "<ExecutionResult>Failure [0xC3EC7821] The service principal names are invalid.</ExecutionResult>",
    ]
    static let eventBoring = [
        "  Log Name: System", "  Source: Service Control Manager", "  Date: 2009-11-12T10:15:02.000",
        "  Task: N/A", "  Opcode: N/A", "  Keyword: Classic", "  User: N/A", "  Computer: fe02.example.com",
        "  The Office Communications Server Front-End service entered the running state.",
    ]
    static let eventInteresting = [
        "  The Office Communications Server IM Conferencing service failed to start due to the following error:",
        "  The service did not start due to a logon failure.",
    ]

    enum Kind: CaseIterable {
        case msi, msiWide, html, xml, event, csv
    }

    func run() throws {
        guard
            let handle = FileHandle(forWritingAtPath: output)
                ?? {
                    _ = FileManager.default.createFile(atPath: output, contents: nil)
                    return FileHandle(forWritingAtPath: output)
                }()
        else { throw ValidationError("cannot write \(output)") }
        handle.truncateFile(atOffset: 0)
        var random = Random()
        let target = megabytes * 1_000_000
        var written = 0
        var kinds: [Kind] =
            switch only {
            case "msi": [.msi]
            case "msi-utf16": [.msiWide]
            case "html": [.html]
            case "xml": [.xml]
            case "event": [.event]
            case "csv": [.csv]
            default: Kind.allCases
            }
        if utf8Only { kinds.removeAll { $0 == .msiWide } }
        var logNumber = 0
        while written < target {
            let kind = kinds[logNumber % kinds.count]
            logNumber += 1
            // One log of about 256 kB to 1 MB.
            let lines = 2000 + random.next(6000)
            var text = ""
            text.reserveCapacity(1 << 20)
            func pick(_ boring: [String], _ interesting: [String]) -> String {
                random.next(1000) < interestingPerMille
                    ? interesting[random.next(interesting.count)] : boring[random.next(boring.count)]
            }
            switch kind {
            case .msi, .msiWide:
                text +=
                    "=== Verbose logging started: 11/17/2009  23:58:02  Build type: SHIP UNICODE 4.05.6001.00  Calling process: C:\\Windows\\system32\\msiexec.exe ===\r\n"
                text +=
                    "Property(S): ProductName = Microsoft Office Communications Server 2007 R2, Front End Server\r\n"
                text += "Action start 12:12:03: INSTALL.\r\n"
                for _ in 0..<lines { text += pick(Self.msiBoring, Self.msiInteresting) + "\r\n" }
                text += "=== Verbose logging stopped: 11/17/2009  23:59:02 ===\r\n"
            case .html:
                text += "<html>\n<head><title>Activate Enterprise Edition Server</title></head>\n<body>\n"
                text += "<div class=\"action\" name=\"Activate Enterprise Edition Server\">\n"
                for _ in 0..<lines { text += pick(Self.htmlBoring, Self.htmlInteresting) + "\n" }
                text += "</div>\n</body>\n</html>\n"
            case .xml:
                text +=
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<LcsCmdLog command=\"LCSCmd.exe /Role:Director /Action:Activate\">\n"
                text += "<Action name=\"Activate Director\">\n"
                for _ in 0..<lines { text += pick(Self.xmlBoring, Self.xmlInteresting) + "\n" }
                text += "</Action>\n</LcsCmdLog>\n"
            case .event:
                var index = 0
                var produced = 0
                while produced < lines {
                    text += "Event[\(index)]:\n"
                    for line in Self.eventBoring.prefix(4) { text += line + "\n" }
                    text +=
                        "  Event ID: \(7000 + random.next(40))\n  Level: \(random.next(1000) < interestingPerMille * 3 ? "Error" : "Information")\n"
                    for line in Self.eventBoring.dropFirst(4).prefix(4) { text += line + "\n" }
                    text += "  Description:\n" + pick(Self.eventBoring.suffix(1), Self.eventInteresting) + "\n\n"
                    index += 1
                    produced += 12
                }
            case .csv:
                text += "Level,Date and Time,Source,Event ID,Task Category\n"
                for _ in 0..<lines {
                    let message = pick(Self.eventBoring.suffix(1), Self.eventInteresting).trimmingCharacters(
                        in: .whitespaces)
                    text +=
                        "Information,11/12/2009 10:15:02 AM,OCS Application Server,\(41000 + random.next(30)),(1000),\"\(message)\"\n"
                }
            }
            let data: Data
            if kind == .msiWide {
                var bytes: [UInt8] = [0xFF, 0xFE]
                bytes.reserveCapacity(text.utf8.count * 2 + 2)
                for unit in text.utf16 {
                    bytes.append(UInt8(unit & 0xFF))
                    bytes.append(UInt8(unit >> 8))
                }
                data = Data(bytes)
            } else {
                data = Data(text.utf8)
            }
            handle.write(data)
            written += data.count
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
            if let matcher, line.bytes.withUnsafeBytes({ matcher.firstMatch(in: $0) }) { matches += 1 }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let megabytes = Double(summary.bytes) / 1e6
        print(
            "lines=\(summary.lines) matches=\(matches) bytes=\(summary.bytes) seconds=\(String(format: "%.3f", seconds)) "
                + "MB/s=\(String(format: "%.0f", megabytes / seconds)) lines/s=\(String(format: "%.0f", Double(summary.lines) / seconds))"
        )
    }
}
