import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Live logs: `tail -f setup.log | ocslog scan --format jsonl` and `ocslog scan --follow FILE` print
/// each exception and finding within two seconds of the line that states it, complete a record
/// left open after a quiet second, read a truncated or replaced file anew, and end on Ctrl-C with
/// the summary of what was read.
@Suite(.serialized) struct LiveTests {
    /// A running `ocslog` whose standard output lines are collected with the time they arrived.
    final class LiveProcess: @unchecked Sendable {
        let process = Process()
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        private let lock = NSLock()
        private var buffer = Data()
        private(set) var lines: [(text: String, at: Date)] = []

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: BinaryRunner.binary)
            process.arguments = arguments
            process.standardInput = input
            process.standardOutput = output
            process.standardError = errors
            var environment = ProcessInfo.processInfo.environment
            environment["SWIFT_BACKTRACE"] = "enable=no"
            process.environment = environment
            output.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                guard let self, !data.isEmpty else { return }
                self.lock.lock()
                defer { self.lock.unlock() }
                self.buffer.append(data)
                while let newline = self.buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: self.buffer[self.buffer.startIndex..<newline], as: UTF8.self)
                    self.buffer.removeSubrange(self.buffer.startIndex...newline)
                    self.lines.append((line, Date()))
                }
            }
            try process.run()
        }

        deinit {
            // A test that stopped early must not leave a follower running.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }

        /// Waits (at most `seconds`) until the process has started and waits for input: its main
        /// thread sleeps in the kernel on a pipe, `poll(2)` or the follower's pause
        /// (`/proc/PID/wchan`), so that what a test measures is the latency of reading, not the
        /// start-up of a debug build on a loaded machine. Whether it became ready (false also where
        /// the kernel does not say, `0`: the test then goes on and measures start-up too).
        @discardableResult
        func waitUntilWaitingForInput(within seconds: Double = 15) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            let waits = ["pipe", "poll", "nanosleep", "hrtimer", "select"]
            var told = false
            while Date() < deadline, process.isRunning {
                let channel =
                    (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/wchan", encoding: .utf8)) ?? ""
                if waits.contains(where: { channel.contains($0) }) { return true }
                told = told || (!channel.isEmpty && channel != "0")
                // A kernel that never names the wait: give start-up a second and go on.
                if !told, Date() > deadline.addingTimeInterval(-seconds + 1) { return false }
                usleep(10_000)
            }
            return false
        }

        /// The lines so far.
        var snapshot: [(text: String, at: Date)] {
            lock.lock()
            defer { lock.unlock() }
            return lines
        }

        /// Waits until a line contains `text` (at most `seconds`); the time it arrived.
        func waitForLine(containing text: String, within seconds: Double) -> Date? {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let found = snapshot.first(where: { $0.text.contains(text) }) { return found.at }
                usleep(20_000)
            }
            return nil
        }

        /// Sends a signal and waits for the end; the exit status and standard error.
        func stop(with signal: Int32?) -> (status: Int32, standardError: String) {
            if let signal { kill(process.processIdentifier, signal) } else { try? input.fileHandleForWriting.close() }
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            usleep(100_000)  // the last output lines
            output.fileHandleForReading.readabilityHandler = nil
            let rest = output.fileHandleForReading.readDataToEndOfFile()
            if !rest.isEmpty {
                lock.lock()
                buffer.append(rest)
                for line in String(decoding: buffer, as: UTF8.self).split(separator: "\n") {
                    lines.append((String(line), Date()))
                }
                buffer.removeAll()
                lock.unlock()
            }
            let standardError = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (process.terminationStatus, standardError)
        }
    }

    /// An MSI log written line by line: each line with the event it must bring, if any.
    static let msiLines: [(line: String, event: String?)] = [
        ("=== Verbose logging started: 11/30/2026  10:00:00  Build type: SHIP UNICODE 3.01.4000.4042 ===", nil),
        ("MSI (s) (A8:5C) [10:00:01:100]: Doing action: CA_AddFirewallExceptions", nil),
        ("Action start 10:00:01: CA_AddFirewallExceptions.", nil),
        (
            "MSI (s) (A8:5C) [10:00:01:200]: Adding firewall exception: port 5061 TCP (SIP over MTLS)",
            "\"portFrom\":5061"
        ),
        ("MSI (s) (A8:5C) [10:00:01:300]: Adding firewall exception: port 444 TCP (Focus)", "\"portFrom\":444"),
        ("Action ended 10:00:01: CA_AddFirewallExceptions. Return value 1.", nil),
        (
            "MSI (s) (A8:5C) [10:00:02:100]: Product: Microsoft Office Communications Server 2007 R2, Front End Server -- Error 1920. Service 'Office Communications Server Front-End' (RTCSRV) failed to start.",
            "1920"
        ),
    ]

    /// Writes the lines one by one to a descriptor, `pause` apart, noting when each event's line was written.
    static func write(
        _ lines: [(line: String, event: String?)], to descriptor: Int32, pause: useconds_t
    ) -> [(event: String, at: Date)] {
        var written: [(String, Date)] = []
        for (line, event) in lines {
            let bytes = Array((line + "\r\n").utf8)
            _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if let event { written.append((event, Date())) }
            usleep(pause)
        }
        return written
    }

    static func expectEachEventWithinTwoSeconds(
        _ process: LiveProcess, _ written: [(event: String, at: Date)], _ what: String
    ) {
        for (event, at) in written {
            let arrived = process.waitForLine(containing: event, within: 4)
            #expect(arrived != nil, "\(what): no line with \(event)")
            if let arrived {
                #expect(
                    arrived.timeIntervalSince(at) < 2, "\(what): \(event) came \(arrived.timeIntervalSince(at)) s late")
            }
        }
    }

    @Test func aPipeFromTailIsReportedAsItIsWritten() throws {
        let live = try LiveProcess(["scan", "--format", "jsonl", "--fail-on", "never"])
        live.waitUntilWaitingForInput()
        let written = Self.write(
            Self.msiLines, to: live.input.fileHandleForWriting.fileDescriptor, pause: 300_000)
        Self.expectEachEventWithinTwoSeconds(live, written, "pipe")
        let (status, _) = live.stop(with: nil)
        #expect(status == 0)
        #expect(live.snapshot.last?.text.contains("\"type\":\"summary\"") == true)
        // Through the pipe the events name their log: -#1.
        #expect(live.snapshot.first { $0.text.contains("\"portFrom\":5061") }?.text.contains("\"log\":1") == true)
    }

    @Test func aRecordLeftOpenIsCompletedAfterAQuietSecond() throws {
        // A text event export: an event ends where the next begins, or when the writer goes quiet.
        let live = try LiveProcess(["scan", "--format", "jsonl", "--fail-on", "never"])
        live.waitUntilWaitingForInput()
        let event = [
            "Event[0]:", "  Log Name: System", "  Source: Service Control Manager", "  Date: 2026-11-30T10:00:00.000",
            "  Event ID: 7000", "  Level: Error", "  Computer: fe09.contoso.com", "  Description:",
            "  The Office Communications Server Front-End service failed to start due to the following error: The service did not start due to a logon failure.",
        ]
        _ = Self.write(event.map { ($0, nil) }, to: live.input.fileHandleForWriting.fileDescriptor, pause: 50_000)
        let at = Date()
        let arrived = live.waitForLine(containing: "7000", within: 4)
        #expect(arrived != nil, "the open event was not completed")
        if let arrived { #expect(arrived.timeIntervalSince(at) < 2.5) }
        _ = live.stop(with: nil)
    }

    /// A plain-text log has no header: only the truncation itself says that a new log begins.
    @Test func aTruncatedFileWithoutHeadersIsANewLog() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("notes.txt").path
        _ = FileManager.default.createFile(atPath: path, contents: Data("Activation notes\r\nComputer: AAA01\r\n".utf8))
        let live = try LiveProcess(["scan", "--follow", path, "--format", "jsonl", "--fail-on", "never"])
        live.waitUntilWaitingForInput()
        usleep(1_500_000)
        let descriptor = open(path, O_WRONLY)
        #expect(descriptor >= 0)
        #expect(ftruncate(descriptor, 0) == 0)
        _ = Self.write([("Other notes", nil), ("Computer: BBB02", nil)], to: descriptor, pause: 100_000)
        close(descriptor)
        usleep(1_500_000)
        let (status, _) = live.stop(with: SIGTERM)
        #expect(status == 128 + SIGTERM)
        let summary = try #require(live.snapshot.last { $0.text.contains("\"type\":\"summary\"") })
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(summary.text.utf8)) as? [String: Any])
        let inputs = try #require(document["inputs"] as? [[String: Any]])
        #expect(inputs.compactMap { $0["server"] as? String } == ["AAA01", "BBB02"])
    }

    @Test func followReadsAGrowingFileATruncatedOneAndAReplacedOneAndEndsOnControlC() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("setup.log").path
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        let live = try LiveProcess(["scan", "--follow", path, "--format", "jsonl", "--fail-on", "never"])
        live.waitUntilWaitingForInput()

        let descriptor = open(path, O_WRONLY | O_APPEND)
        #expect(descriptor >= 0)
        var written = Self.write(Self.msiLines, to: descriptor, pause: 300_000)
        Self.expectEachEventWithinTwoSeconds(live, written, "growing")

        // Truncated and written again: read from the start, as a new log.
        #expect(ftruncate(descriptor, 0) == 0)
        let again = Self.msiLines.map { entry in
            (
                entry.line.replacingOccurrences(of: "5061", with: "5063"),
                entry.event.map { $0.replacingOccurrences(of: "5061", with: "5063") }
            )
        }
        written = Self.write(again, to: descriptor, pause: 200_000)
        Self.expectEachEventWithinTwoSeconds(live, written.filter { $0.event.contains("5063") }, "truncated")
        close(descriptor)

        // Replaced under its name (a new file renamed over it).
        let replacement = folder.appendingPathComponent("setup.log.new").path
        let lines = Self.msiLines.map { $0.line.replacingOccurrences(of: "5061", with: "5067") + "\r\n" }
        _ = FileManager.default.createFile(atPath: replacement, contents: Data(lines.joined().utf8))
        let renamedAt = Date()
        #expect(rename(replacement, path) == 0)
        let arrived = live.waitForLine(containing: "\"portFrom\":5067", within: 4)
        #expect(arrived != nil, "the replaced file was not read")
        if let arrived { #expect(arrived.timeIntervalSince(renamedAt) < 2) }

        let (status, standardError) = live.stop(with: SIGINT)
        #expect(status == 130)
        #expect(standardError.contains("truncated"))
        #expect(standardError.contains("replaced"))
        #expect(standardError.contains("interrupted"))
        let summary = try #require(live.snapshot.last { $0.text.contains("\"type\":\"summary\"") })
        // Three logs: the first writing, the truncated one, the replacement.
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(summary.text.utf8)) as? [String: Any])
        let inputs = try #require(document["inputs"] as? [[String: Any]])
        #expect(inputs.count == 3)
    }
}
