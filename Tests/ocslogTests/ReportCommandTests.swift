import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ReportCommandTests {
    static let corpus = BinaryRunner.packageRoot.appendingPathComponent("corpus/logs").path

    @Test func reportWritesEachFormatFromTheExtensionAndScanWritesTheSame() throws {
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let kb = Self.corpus + "/kb974571"
        for name in ["r.md", "r.html", "r.json", "r.sarif", "r.xml"] {
            let path = folder.appendingPathComponent(name).path
            let outcome = try BinaryRunner.run(["report", kb, "-o", path])
            #expect(outcome.status == 0, "\(name): \(outcome.standardError)")
            let written = try String(contentsOfFile: path, encoding: .utf8)
            #expect(written.contains("0xC3EC796C"), "\(name)")
            let fromScan = folder.appendingPathComponent("scan-" + name).path
            let scan = try BinaryRunner.run(["scan", kb, "--report", fromScan, "--fail-on", "never"])
            #expect(scan.status == 0)
            #expect(try String(contentsOfFile: fromScan, encoding: .utf8) == written, "scan --report \(name)")
        }
        let markdown = try String(contentsOfFile: folder.appendingPathComponent("r.md").path, encoding: .utf8)
        #expect(markdown.contains("Activate Enterprise Edition Server failed: Security update KB974571 is installed"))
    }

    @Test func reportOptionsAreCheckedBeforeAnythingIsWritten() throws {
        let unknown = try BinaryRunner.run(["report", "--format", "pdf"])
        #expect(unknown.status == 2)
        #expect(unknown.standardError.contains("'md', 'html', 'json', 'sarif' or 'junit'"))
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("r.txt").path
        let noExtension = try BinaryRunner.run(["report", Self.corpus, "-o", target])
        #expect(noExtension.status == 2)
        #expect(noExtension.standardError.contains("cannot tell the report format"))
        #expect(!FileManager.default.fileExists(atPath: target))
        let scan = try BinaryRunner.run(["scan", Self.corpus, "--report", target])
        #expect(scan.status == 2)
    }

    @Test func reportToStandardOutputAndFailOn() throws {
        let outcome = try BinaryRunner.run(["report", Self.corpus + "/msi-failure", "--format", "json"])
        #expect(outcome.status == 0)
        let document = try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any]
        #expect(document?["verdict"] as? String == "failed")
        let findings = try #require(document?["findings"] as? [[String: Any]])
        #expect((findings.first?["reasons"] as? [String])?.isEmpty == false)
        let failing = try BinaryRunner.run(["report", Self.corpus + "/msi-failure", "--fail-on", "error"])
        #expect(failing.status == 1)
        let clean = try BinaryRunner.run(["report", Self.corpus + "/edge", "--fail-on", "warning"])
        #expect(clean.status == 0)
        #expect(clean.standardOutput.contains("No errors or warnings"))
    }

    @Test func explainAnswersCodesAndIDsAndIsHonestAboutTheRest() throws {
        let known = try BinaryRunner.run(["explain", "3286842403"])
        #expect(known.status == 0)
        #expect(known.standardOutput.contains("0xC3E93C23"))
        #expect(known.standardOutput.contains("KI-09"))
        let unknown = try BinaryRunner.run(["explain", "0x8007FFFE"])
        #expect(unknown.status == 1)
        #expect(unknown.standardOutput.contains("not in the knowledge base"))
        #expect(unknown.standardOutput.contains("Win32, code 65534"))
        let json = try BinaryRunner.run(["explain", "KI-01", "--format", "json"])
        #expect(json.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
        #expect((object?["knownIssues"] as? [[String: Any]])?.first?["id"] as? String == "KI-01")
        let nonsense = try BinaryRunner.run(["explain", "hello"])
        #expect(nonsense.status == 2)
        #expect(nonsense.standardError.contains("KI-09"))
    }

    /// The HTML report opened in headless Chromium: it renders, the browser logs no error, and the DOM holds the headline.
    @Test(.timeLimit(.minutes(2))) func htmlRendersInHeadlessChromium() throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        let browser = try #require(chromium, "chromium is not installed (./ocslog.sh test installs it)")
        let folder = try BinaryRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let html = folder.appendingPathComponent("report.html").path
        let written = try BinaryRunner.run(["report", Self.corpus, "-o", html])
        #expect(written.status == 0)
        let screenshot = folder.appendingPathComponent("report.png").path
        let outcome = try BinaryRunner.spawn(
            browser,
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr",
                "--v=0", "--user-data-dir=\(folder.path)/profile", "--window-size=1100,1800",
                "--screenshot=\(screenshot)", "file://\(html)",
            ])
        #expect(outcome.status == 0, "chromium: \(outcome.standardError.suffix(2000))")
        let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
        #expect(size > 20_000, "a screenshot with content (\(size) bytes)")
        let consoleProblems = outcome.standardError.split(separator: "\n").filter {
            $0.contains("CONSOLE") || $0.contains("Refused to") || $0.contains("Uncaught")
        }
        #expect(consoleProblems.isEmpty, "\(consoleProblems)")
        let dom = try BinaryRunner.spawn(
            browser,
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=\(folder.path)/profile2", "--dump-dom", "file://\(html)",
            ])
        #expect(dom.status == 0)
        #expect(dom.standardOutput.contains("<p class=\"headline failed\">"))
        #expect(dom.standardOutput.contains("known issue KI-09"))
        #expect(dom.standardOutput.contains("<svg"))
    }
}
