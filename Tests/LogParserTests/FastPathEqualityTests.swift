import Foundation
import Knowledge
import LogParser
import ScanModel
import TestSupport
import Testing

/// The fast path (lines that cannot change a result are read without making their records) against
/// the reference path (`--exact`: every line parsed): the same result, event for event, on the whole
/// corpus and on generated logs built to tempt the fast path into a mistake.
@Suite struct FastPathEqualityTests {
    /// The scan's JSON result and the events heard on the way, read either way.
    static func read(_ inputs: [InputFile], exact: Bool) throws -> String {
        try reading(inputs, exact: exact).json
    }

    static func reading(_ inputs: [InputFile], exact: Bool) throws -> (json: String, quietLines: Int) {
        let analyzer = Analyzer(knowledge: try ScanFixtures.knowledge, options: AnalysisOptions(parseEveryLine: exact))
        var events: [String] = []
        for input in inputs { try analyzer.analyze(input) { events.append(String(describing: $0)) } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json =
            String(decoding: try encoder.encode(analyzer.result()), as: UTF8.self) + "\n"
            + events.joined(separator: "\n")
        return (json, analyzer.quietLines)
    }

    /// The first line where two readings differ, for the failure message.
    static func firstDifference(_ fast: String, _ exact: String) -> String {
        let left = fast.split(separator: "\n", omittingEmptySubsequences: false)
        let right = exact.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? String(left[index]) : "<end>"
            let b = index < right.count ? String(right[index]) : "<end>"
            if a != b { return "line \(index + 1): fast \(a) | exact \(b)" }
        }
        return "none"
    }

    @Test func everyCorpusLogReadsTheSameEitherWay() throws {
        let root = Fixtures.corpus.path
        let paths = (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? [])
            .filter { !$0.hasPrefix("expected/") && !$0.hasPrefix("tools/") }
            .map { root + "/" + $0 }
            .filter { path in
                var isFolder: ObjCBool = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && !isFolder.boolValue
            }
            .sorted()
        #expect(paths.count > 100)
        for path in paths {
            let input = InputFile(path: path)
            let fast = try Self.read([input], exact: false)
            let exact = try Self.read([input], exact: true)
            #expect(fast == exact, "\(path): \(Self.firstDifference(fast, exact))")
        }
        // And all of them as one scan (roles and servers settle across inputs).
        let inputs = paths.map { InputFile(path: $0) }
        let fast = try Self.read(inputs, exact: false)
        let exact = try Self.read(inputs, exact: true)
        #expect(fast == exact, "whole corpus: \(Self.firstDifference(fast, exact))")
    }

    @Test(arguments: 0..<60) func generatedMSILogsReadTheSameEitherWay(seed: UInt64) throws {
        var generator = MSILogGenerator(seed: seed)
        let text = generator.render()
        let input = InputFile(path: "generated-\(seed).log", contents: Array(text.utf8))
        let fast = try Self.read([input], exact: false)
        let exact = try Self.read([input], exact: true)
        #expect(fast == exact, "seed \(seed): \(Self.firstDifference(fast, exact))")
    }

    @Test func theFastPathSkipsWhatItMayAndTheResultShowsIt() throws {
        // A log of quiet engine lines (across midnight) before one failure: both paths find the
        // failure at its line; the fast path made no record of the engine lines past the header.
        var lines = [
            "=== Verbose logging started: 11/17/2009  23:58:02  Build type: SHIP UNICODE 4.05.6001.00  Calling process: C:\\Windows\\system32\\msiexec.exe ===",
            "Property(S): ProductName = Microsoft Office Communications Server 2007 R2, Front End Server",
            "Action start 23:58:03: INSTALL.",
        ]
        for index in 0..<200 {
            let minute = 58 + index / 100
            let time = minute < 60 ? "23:\(minute):10:000" : "00:0\(minute - 60):10:000"
            lines.append("MSI (s) (84:34) [\(time)]: Doing action: Step\(index)")
        }
        lines.append("Action ended 00:01:04: InstallFiles. Return value 3.")
        let input = InputFile(path: "midnight.log", contents: Array((lines.joined(separator: "\r\n") + "\r\n").utf8))
        let fast = try Self.reading([input], exact: false)
        let exact = try Self.reading([input], exact: true)
        #expect(fast.json == exact.json, "\(Self.firstDifference(fast.json, exact.json))")
        #expect(fast.json.contains("\"line\" : 204"))
        // Lines 61–203: past the header's first 60 lines (where any line may name the computer), up
        // to the action's end; the reference path skips none.
        #expect(fast.quietLines == 143)
        #expect(exact.quietLines == 0)
    }
}

/// Renders a random verbose MSI log in every shape the MSI parser knows, weighted towards the lines
/// the fast path may skip, with the lines that must stop it mixed in: actions (their context),
/// properties that name the computer or the product late, notes with loud and quiet numbers,
/// free text (paragraphs about the firewall, column tables), candidates, a clock that crosses
/// midnight on engine lines only, a log that stops and MSI lines after it, a second log.
struct MSILogGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }

    mutating func next(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }

    mutating func pick(_ choices: [String]) -> String { choices[next(choices.count)] }

    mutating func render() -> String {
        var out: [String] = []
        let logs = 1 + next(2)
        for _ in 0..<logs { out += renderLog() }
        if next(4) == 0 { out.append("Some text after the logs: see the ticket.") }
        return out.joined(separator: next(2) == 0 ? "\r\n" : "\n") + "\n"
    }

    mutating func renderLog() -> [String] {
        var lines: [String] = []
        var milliseconds = (20 + next(4)) * 3_600_000 + next(3_600_000)
        func stamp() -> String {
            let value = milliseconds % 86_400_000
            let hours = value / 3_600_000
            let minutes = value / 60_000 % 60
            let seconds = value / 1000 % 60
            func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
            return
                "\(two(hours)):\(two(minutes)):\(two(seconds)):\(value % 1000 < 100 ? "0" : "")\(value % 1000 < 10 ? "0" : "")\(value % 1000)"
        }
        func short() -> String { String(stamp().prefix(8)) }
        lines.append(
            "=== Verbose logging started: 11/17/2009  \(short())  Build type: SHIP UNICODE 4.05.6001.00  Calling process: C:\\Windows\\system32\\msiexec.exe ==="
        )
        var actions: [String] = []
        let count = 80 + next(400)
        for _ in 0..<count {
            // Mostly forward in time; now and then a jump of hours (midnight on an engine line).
            milliseconds += next(20) == 0 ? next(8 * 3_600_000) : next(3000)
            let engine = "MSI (\(pick(["s", "c"]))) (84:34) [\(stamp())]: "
            switch next(40) {
            case 0..<14:
                lines.append(
                    engine
                        + pick([
                            "Doing action: InstallFiles", "Resolving source.", "Executing op: ActionStart(Name=X)",
                            "Component: RTCSrv; Installed: Absent;   Request: Local;   Action: Local",
                            "Executing op: FileCopy(SourceName=a.dll,DestName=a.dll,Attributes=512)",
                            "Skipping action: Foo (condition is false)",
                            "Machine policy value 'DisableUserInstalls' is 0", "Grabbed execution mutex.",
                            "Computer name is not set here", "Transforming table Error.",
                        ]))
            case 14..<18:
                lines.append(
                    pick(["Property(S): ", "Property(C): ", "Eigenschaft(S): "])
                        + pick([
                            "INSTALLLEVEL = 1", "ProductToBeRegistered = 1", "ProductToBeRegistered = 1",
                            "ComputerName = FE0\(next(9)).contoso.local",
                            "ProductName = Microsoft Office Communications Server 2007 R2, \(pick(["Edge Server", "Front End Server", "Mediation Server"]))",
                            "SERVICEPASSWORD = hunter2", "MachineName = EDGE01", "Dummy = Product of things",
                        ]))
            case 18:
                lines.append(
                    engine
                        + "PROPERTY CHANGE: Adding \(pick(["INSTALLLEVEL", "PASSWORD", "ComputerName"])) property. Its value is 'FE09'."
                )
            case 19..<22:
                lines.append(
                    engine
                        + "Note: 1: \(pick(["2205", "2228", "1708", "1402", "2826", "1920", "2262", "9999"])) 2:  3: Registry"
                )
            case 22..<24:
                let name = pick(["InstallFiles", "CA_AddFirewallExceptions", "ActivateServer", "CA_ConfigureServices"])
                actions.append(name)
                lines.append("Action start \(short()): \(name).")
            case 24..<26 where !actions.isEmpty:
                let name = actions.removeLast()
                lines.append("Action ended \(short()): \(name). Return value \(pick(["1", "1", "3", "2"])).")
            case 26:
                lines.append(
                    pick([
                        "Firewall exceptions opened:", "The following ports were opened:", "Name  Protocol  Port",
                        "", "  TCP 5061", "Other checks:", "RTCSrv  TCP  5061", "Nothing to see here.",
                    ]))
            case 27:
                lines.append(
                    pick([
                        engine + "Adding firewall exception for C:\\Program Files\\OCS\\RTCSrv.exe (TCP 5061)",
                        "Error 1920. Service 'Office Communications Server Front-End' (RTCSRV) failed to start.",
                        engine + "Warning: the service RTCSRV did not start within 30 seconds",
                        "CA_ConfigureServices: Failed to set service account: 0x80070005 Access is denied.",
                    ]))
            case 28:
                lines.append(
                    engine
                        + pick([
                            "Product: Microsoft Office Communications Server 2007 R2 -- Installation failed.",
                            "Windows Installer installed the product. Product Name: OCS. Installation success or error status: 1603.",
                            "MainEngineThread is returning 1603", "CustomAction CA_X returned actual error code 1603",
                        ]))
            case 29 where next(6) == 0:
                lines.append("=== Logging stopped: 11/17/2009  \(short()) ===")
            case 30 where next(8) == 0:
                // Rarely: an engine line that names the computer (so that a late property may be the first to).
                lines.append(engine + pick(["Machine: FE0\(next(9)).contoso.local", "Computer = EDGE0\(next(9))"]))
            default:
                lines.append(engine + "Doing action: Step\(next(1000))")
            }
        }
        return lines
    }
}
