import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Hostile and broken inputs (`corpus/adversarial/`, and large ones made here): every one ends
/// under a time limit with the stated exit status and message, and what could still be read is found.
@Suite(.serialized) struct AdversarialTests {
    static let folder = BinaryRunner.packageRoot.appendingPathComponent("corpus/adversarial")

    /// `ocslog ARGUMENTS` under `timeout` (a hang is a failure, status 124).
    static func run(_ arguments: [String], seconds: Int = 60, standardInput: String = "/dev/null")
        throws -> BinaryRunner.Outcome
    {
        try BinaryRunner.spawn(
            "/usr/bin/timeout", ["--signal=KILL", "\(seconds)", BinaryRunner.binary] + arguments,
            standardInput: standardInput, environment: ["SWIFT_BACKTRACE": "enable=no"])
    }

    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// The scan's JSON document for one adversarial file.
    static func scan(_ name: String, _ extra: [String] = []) throws -> (BinaryRunner.Outcome, [String: Any]) {
        let outcome = try run(["scan", "--format", "json", "--fail-on", "never", path(name)] + extra)
        #expect(outcome.status == 0, "\(name): status \(outcome.status): \(outcome.standardError)")
        let document = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
        return (outcome, try #require(document, "\(name): no JSON"))
    }

    static func input(_ document: [String: Any]) throws -> [String: Any] {
        try #require((document["inputs"] as? [[String: Any]])?.first)
    }

    static func skipped(_ document: [String: Any]) throws -> [String: Any] {
        try #require(try input(document)["skipped"] as? [String: Any])
    }

    static func findings(_ document: [String: Any]) -> [[String: Any]] {
        document["findings"] as? [[String: Any]] ?? []
    }

    @Test func emptyAndBOMOnlyFilesReadAsNothing() throws {
        for name in ["empty.log", "bom-only.log"] {
            let (outcome, document) = try Self.scan(name)
            #expect(try Self.input(document)["lines"] as? Int == 0, "\(name)")
            #expect(Self.findings(document).isEmpty)
            #expect(!outcome.standardError.contains("not recognised"), "an empty input is no unknown format")
        }
    }

    @Test func brokenUTF16IsDecodedWithReplacementsAndStillScanned() throws {
        let (_, odd) = try Self.scan("utf16-odd-bytes.log")
        #expect(try Self.input(odd)["encoding"] as? String == "utf-16le")
        #expect(try Self.skipped(odd)["undecodable"] as? Int ?? 0 >= 1, "the odd last byte is counted")
        #expect(
            Self.findings(odd).contains { ($0["evidence"] as? [[String: Any]])?.first?["line"] as? Int == 1 },
            "the line before the odd byte is still read and classified")
        let (_, cut) = try Self.scan("utf16-cut-surrogate.log")
        #expect(try Self.skipped(cut)["undecodable"] as? Int ?? 0 >= 1, "the lone surrogate is counted")
        #expect(Self.findings(cut).contains { $0["code"] as? String == "0x80070005" })
    }

    @Test func invalidUTF8IsReadAsWindows1252() throws {
        // Not UTF-8 within the detection window: the whole input is read as Windows-1252.
        let (_, document) = try Self.scan("invalid-utf8.log")
        #expect(try Self.input(document)["encoding"] as? String == "windows-1252")
        // Valid UTF-8 at first, then a broken line: that line alone is read as Windows-1252.
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("late.log")
        var bytes = Array(
            "=== Verbose logging started: 1/2/2026  10:00:00  Build type: SHIP UNICODE 3.01.4000.4042 ===\n".utf8)
        for _ in 0..<200 {
            bytes += Array("MSI (s) (84:34) [12:12:03:391]: Doing action: InstallFiles caf\u{E9}\n".utf8)
        }
        bytes += [0x43, 0x41, 0x3A, 0x20, 0xE4, 0xF6, 0x20] + Array("Failed 0x80070005 Access is denied.\n".utf8)
        try Data(bytes).write(to: file)
        let outcome = try Self.run(["scan", "--format", "json", "--fail-on", "never", file.path])
        let late = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        #expect(try Self.input(late)["encoding"] as? String == "utf-8")
        #expect(try Self.skipped(late)["windows1252Lines"] as? Int == 1)
        #expect(Self.findings(late).contains { $0["code"] as? String == "0x80070005" })
        #expect(Self.findings(document).contains { $0["code"] as? String == "0x80070005" })
    }

    @Test func nulBytesAreCountedAsBinaryAndTheRestIsRead() throws {
        let (outcome, document) = try Self.scan("nul-bytes.log")
        #expect(try Self.skipped(document)["binaryBytes"] as? Int == 7)
        #expect(Self.findings(document).contains { $0["code"] as? String == "0x80070005" })
        let text = try Self.run(["scan", Self.path("nul-bytes.log"), "--fail-on", "never"])
        #expect(text.standardOutput.contains("7 NUL bytes (binary data)"))
        _ = outcome
    }

    @Test func crOnlyLineEndsReadAsOneLine() throws {
        // Windows tools end lines with CRLF; a file with CR alone is read as one line (a known limit),
        // and what it says is still classified.
        let (_, document) = try Self.scan("cr-only.log")
        #expect(try Self.input(document)["lines"] as? Int == 1)
        #expect(try Self.input(document)["format"] as? String == "msi-verbose")
        #expect(Self.findings(document).contains { $0["code"] as? String == "0x80070005" }, "its error is still found")
    }

    @Test func deepUnclosedMarkupIsCappedAndSaysItWasCut() throws {
        let (_, document) = try Self.scan("deep-unclosed.html")
        #expect(try Self.skipped(document)["endedInsideRecord"] as? Bool == true)
        let exceptions = document["exceptions"] as? [[String: Any]] ?? []
        #expect(exceptions.contains { $0["portFrom"] as? Int == 5061 }, "the exception inside is found")
        #expect(Self.findings(document).contains { $0["code"] as? String == "0xC3EC796C" })
        for finding in Self.findings(document) {
            #expect((finding["context"] as? [Any])?.count ?? 0 <= 66, "contexts stay bounded")
        }
    }

    @Test func anXMLBombIsNeverExpanded() throws {
        let (outcome, document) = try Self.scan("xml-bomb.xml")
        #expect(outcome.standardOutput.utf8.count < 20_000, "no expansion in the output")
        #expect(outcome.peakResidentKiB < 64 * 1024)
        let exceptions = document["exceptions"] as? [[String: Any]] ?? []
        #expect(exceptions.contains { $0["portFrom"] as? Int == 5061 })
    }

    @Test func aTruncatedLogSaysSoAndKeepsWhatItHad() throws {
        let (_, document) = try Self.scan("truncated.html")
        #expect(try Self.skipped(document)["endedInsideRecord"] as? Bool == true)
        #expect(!((document["exceptions"] as? [Any]) ?? []).isEmpty, "exceptions before the cut are kept")
        let (_, whole) = try Self.scan("../logs/front-end/Activate Enterprise Edition Server.html")
        #expect(try Self.skipped(whole)["endedInsideRecord"] as? Bool == false)
    }

    @Test func badPortsBecomeWarningsNamingTheLineNeverRules() throws {
        let (_, document) = try Self.scan("bad-ports.log")
        let exceptions = document["exceptions"] as? [[String: Any]] ?? []
        #expect(exceptions.map { $0["portFrom"] as? Int } == [5061], "only the valid port: \(exceptions)")
        // 0, 65536, a backwards range and an out-of-range one: one warning group (their text differs
        // only in numbers) from the first to the last; "5061;" is flagged as ruleset syntax; "-1" is
        // no port at all: a firewall entry whose port cannot be read, reported with its line.
        let warnings = Self.findings(document).filter { $0["severity"] as? String == "warning" }
        let invalid = try #require(warnings.first { ($0["title"] as? String)?.contains("invalid port") == true })
        #expect(invalid["count"] as? Int == 4)
        let lines = (invalid["evidence"] as? [[String: Any]] ?? []).compactMap { $0["line"] as? Int }
        #expect(lines == [3, 8])
        #expect(warnings.contains { ($0["evidence"] as? [[String: Any]])?.first?["line"] as? Int == 6 })
        let unreadable = try #require(warnings.first { ($0["title"] as? String)?.contains("not understood") == true })
        #expect((unreadable["evidence"] as? [[String: Any]])?.first?["line"] as? Int == 5)
        #expect((unreadable["title"] as? String)?.contains("port -1") == true)
        #expect(try Self.input(document)["notUnderstood"] as? Int == 0)
        let nft = try Self.run(["rules", Self.path("bad-ports.log"), "--target", "nft"])
        #expect(nft.status == 0)
        #expect(nft.standardOutput.contains("5061") && !nft.standardOutput.contains("65536"))
    }

    @Test func hostileNamesNeverLeaveAComment() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for target in ["nft", "iptables", "ip6tables", "powershell", "netsh"] {
            let outcome = try Self.run(["rules", Self.path("hostile-names.log"), "--target", target])
            #expect(outcome.status == 0, "\(target): \(outcome.standardError)")
            let text = outcome.standardOutput
            #expect(!text.contains("reboot") || target == "powershell", "\(target): attacker text only where quoted")
            #expect(!text.contains("policy accept.exe"), "\(target)")
            if target == "nft" {
                let file = folder.appendingPathComponent("hostile.nft").path
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                let check = try BinaryRunner.spawn("/usr/bin/unshare", ["-rn", "nft", "-c", "-f", file])
                #expect(check.status == 0, "nft -c: \(check.standardError)")
                for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                    if let comment = line.range(of: "comment \"") {
                        let body = line[comment.upperBound...].prefix { $0 != "\"" }
                        #expect(body.count <= 100, "comments fit nft's limit")
                    }
                }
            }
            if target == "iptables" {
                let file = folder.appendingPathComponent("hostile.v4").path
                try text.write(toFile: file, atomically: true, encoding: .utf8)
                let check = try BinaryRunner.spawn(
                    "/usr/bin/unshare", ["-rn", "sh", "-c", "iptables-restore --test < '\(file)'"])
                #expect(check.status == 0, "iptables-restore --test: \(check.standardError)")
            }
        }
    }

    @Test func aHundredMegabyteLineIsCutInBoundedMemory() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("long-line.log").path
        FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.write(Data("Error 1920. Service failed to start.\n".utf8))
        let block = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<100 { handle.write(block) }
        handle.write(Data("\nCA: Failed 0x80070005 Access is denied.\n".utf8))
        try handle.close()
        let outcome = try Self.run(["scan", "--format", "json", "--fail-on", "never", file], seconds: 120)
        #expect(outcome.status == 0)
        #expect(outcome.peakResidentKiB < 64 * 1024, "peak RSS \(outcome.peakResidentKiB) KiB")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        #expect(try Self.skipped(document)["longLines"] as? Int == 1)
        #expect(Self.findings(document).contains { $0["code"] as? String == "0x80070005" }, "the line after it is read")
    }

    /// A hundred megabytes of one repeated line through a pipe (no disk): bounded memory, no hang.
    /// (The gigabyte runs in `./ocslog.sh bench`, bench/memory.py: too slow for the suite.)
    @Test func aHundredMegabytesOfOneRepeatedLineThroughAPipeInBoundedMemory() throws {
        let script =
            "yes 'MSI (s) (84:34) [12:12:03:393]: Doing action: InstallFiles' | head -c 100000000 | "
            + "timeout --signal=KILL 600 '\(BinaryRunner.binary)' scan --format json --fail-on never --jobs 1"
        let outcome = try BinaryRunner.spawn("/bin/sh", ["-c", "\(script); echo \"status $?\" >&2"])
        #expect(outcome.standardError.contains("status 0"), "\(outcome.standardError.suffix(500))")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        #expect(try Self.input(document)["lines"] as? Int ?? 0 > 1_500_000)
        // wait4 reports the largest child of the shell: ocslog, or yes/head (small).
        #expect(outcome.peakResidentKiB < 64 * 1024, "peak RSS \(outcome.peakResidentKiB) KiB")
    }

    @Test func aHundredThousandDistinctPortsMakeAValidRuleset() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("ports.log").path
        var text = "=== Verbose logging started: 1/2/2026  10:00:00  Build type: SHIP UNICODE 3.01.4000.4042 ===\n"
        text += "Property(S): ProductName = Microsoft Office Communications Server 2007 R2, Front End Server\n"
        for index in 0..<100_000 {
            let port = 1 + (index * 7919) % 65535
            text +=
                "MSI (s) (84:34) [12:12:04:001]: Adding firewall exception: Front-End, \(index % 2 == 0 ? "TCP" : "UDP") port \(port)\n"
        }
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let nftFile = folder.appendingPathComponent("ports.nft").path
        let outcome = try Self.run(["rules", file, "--target", "nft", "-o", nftFile], seconds: 300)
        #expect(outcome.status == 0, "\(outcome.standardError)")
        // As root the check runs in a namespace of its own with the real netlink buffer; without
        // root, a user namespace caps the buffer below a set this large (a limit of the check, not of
        // the ruleset).
        if geteuid() == 0 {
            let check = try BinaryRunner.spawn("/usr/bin/unshare", ["-n", "nft", "-c", "-f", nftFile])
            #expect(check.status == 0, "nft -c: \(check.standardError.prefix(500))")
        } else {
            // Without root the same ruleset is checked as iptables-restore input.
            let v4 = folder.appendingPathComponent("ports.v4").path
            #expect(try Self.run(["rules", file, "--target", "iptables", "-o", v4], seconds: 300).status == 0)
            let check = try BinaryRunner.spawn(
                "/bin/sh", ["-c", "unshare -rn iptables-restore --test < '\(v4)'"])
            #expect(check.status == 0, "iptables-restore --test: \(check.standardError.prefix(500))")
        }
    }

    @Test func anExecutableIsReadAsBinaryWithoutHarm() throws {
        let outcome = try Self.run(["scan", "--format", "json", "--fail-on", "never", "/bin/ls"])
        #expect(outcome.status == 0)
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        #expect(try Self.skipped(document)["binaryBytes"] as? Int ?? 0 > 1000)
        #expect(
            outcome.standardError.contains("ocslog: note: /bin/ls") && outcome.standardError.contains("not recognised"))
    }

    @Test func aFolderWithAnUnreadableEntryASymlinkLoopAndAFIFOStillScansTheRest() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(
            atPath: BinaryRunner.packageRoot.appendingPathComponent(
                "corpus/logs/kb974571/Activate Enterprise Edition Server.html"
            ).path,
            toPath: folder.appendingPathComponent("b-good.html").path)
        // A socket cannot be opened as a file (even by root); a FIFO would block a reader forever.
        let socketPath = folder.appendingPathComponent("a-socket.log").path
        let socketDescriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketDescriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        #expect(mkfifo(folder.appendingPathComponent("c-fifo.log").path, 0o644) == 0)
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("d-loop1").path, withDestinationPath: "d-loop2")
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("d-loop2").path, withDestinationPath: "d-loop1")
        let outcome = try Self.run(["scan", "--format", "json", folder.path], seconds: 30)
        #expect(outcome.status == 2, "an input could not be read: \(outcome.standardError)")
        #expect(outcome.standardError.contains("a-socket.log"), "the socket is named")
        #expect(outcome.standardError.contains("d-loop"), "the loop is named")
        #expect(outcome.standardError.contains("c-fifo.log: a FIFO, not a log file"), "the FIFO is named, not read")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        let paths = (document["inputs"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(paths.contains { $0.hasSuffix("b-good.html") }, "the readable file is scanned: \(paths)")
        #expect(Self.findings(document).contains { $0["code"] as? String == "0xC3EC796C" })
    }

    /// Killed at random moments while writing, a report file is either the old one or the new one, whole.
    @Test func outputFilesAreWholeOrNotThereWhenTheWriterIsKilled() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("report.html").path
        let old = "<!DOCTYPE html><p>the old report</p>\n"
        try old.write(toFile: target, atomically: true, encoding: .utf8)
        let corpus = BinaryRunner.packageRoot.appendingPathComponent("corpus/logs").path
        var sawOld = false
        for delay in stride(from: 0, through: 600, by: 40) {
            let script =
                "'\(BinaryRunner.binary)' report '\(corpus)' -o '\(target)' --jobs 1 & pid=$!; "
                + "sleep 0.\(String(format: "%03d", delay)); kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; true"
            _ = try BinaryRunner.spawn("/bin/sh", ["-c", script])
            let text = try String(contentsOfFile: target, encoding: .utf8)
            let whole = text == old || (text.hasPrefix("<!DOCTYPE html>") && text.hasSuffix("</html>\n"))
            #expect(whole, "after a kill at \(delay) ms the file is old or whole (\(text.utf8.count) bytes)")
            if text == old { sawOld = true }
            try old.write(toFile: target, atomically: true, encoding: .utf8)
        }
        #expect(sawOld, "some kills came before the rename")
        // Not killed, the writer replaces the file with the new report, whole.
        let finished = try BinaryRunner.run(["report", corpus, "-o", target, "--jobs", "1"])
        let text = try String(contentsOfFile: target, encoding: .utf8)
        #expect(finished.status <= 1 && text != old, "the new report replaced the old one")
        #expect(text.hasPrefix("<!DOCTYPE html>") && text.hasSuffix("</html>\n"))
    }

    @Test func secretsStayMaskedInEveryScanOutput() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("FrontEnd.log").path
        try """
        === Verbose logging started: 1/2/2026  10:00:00  Build type: SHIP UNICODE 3.01.4000.4042 ===
        Property(S): SERVICEPASSWORD = hunter2-error-0x80070005
        PROPERTY CHANGE: Adding DBPASSWORD property. Its value is 'hunter3 failed'.
        Action start 10:00:01: InstallFinalize.
        CA_Setup: Failed to open the service: 0x80070005 Access is denied.
        Action ended 10:00:02: InstallFinalize. Return value 3.

        """.write(toFile: file, atomically: true, encoding: .utf8)
        for arguments in [
            ["scan", file], ["scan", file, "--format", "json"], ["scan", file, "--format", "jsonl"],
            ["scan", file, "--explain"], ["scan", file, "--records"], ["report", file],
            ["report", file, "--format", "html"], ["report", file, "--format", "json"],
            ["report", file, "--format", "sarif"], ["report", file, "--format", "junit"],
        ] {
            let outcome = try Self.run(arguments)
            let everything = outcome.standardOutput + outcome.standardError
            #expect(!everything.contains("hunter2") && !everything.contains("hunter3"), "\(arguments)")
        }
    }
}
