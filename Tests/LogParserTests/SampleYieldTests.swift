import Foundation
import Knowledge
import PCRE2
import ScanModel
import TestSupport
import Testing

@testable import LogParser

/// Every signature's samples state what a scan of them yields — the exceptions (protocol and
/// ports, the program, the service), the code of every finding (another signature's named), or
/// nothing at all for noise — the way fail2ban's filter tests state theirs; the test scans each
/// and compares exactly. A field pattern's samples are fragments: their yield is what it captures.
@Suite struct SampleYieldTests {
    /// The sample as a log of its format (an HTML step around it, an MSI or event text as is).
    static func log(_ sample: SignatureSample) -> (String, LogFormat) {
        switch sample.format {
        case "msi": return (sample.text + "\n", .msiVerbose)
        case "event": return (sample.text + "\n", .eventText)
        case "html":
            let context = sample.context ?? "Sample step"
            return (
                "<html><body><div name=\"\(context)\"><div>\(sample.text)</div></div></body></html>\n", .deploymentHTML
            )
        default: return (sample.text + "\n", .plainText)
        }
    }

    /// What a scan of the sample yields, in the samples' words.
    static func yields(_ sample: SignatureSample, of signature: Signature) throws -> [String] {
        if signature.type == .field {
            // Field patterns run on exception records: their yield is the group they capture.
            guard let pattern = signature.pattern else { return [] }
            let matcher = pattern.makeMatcher()
            var text = sample.text
            return text.withUTF8 { bytes in
                let raw = UnsafeRawBufferPointer(bytes)
                guard matcher.firstMatch(in: raw) else { return [] }
                for group in ["program", "service", "service2", "service3"] {
                    if let range = matcher.range(ofGroup: group) {
                        let name = group.hasPrefix("service") ? "service" : group
                        return ["\(name) \(String(decoding: raw[range], as: UTF8.self))"]
                    }
                }
                return []
            }
        }
        let (text, format) = log(sample)
        let analyzer = Analyzer(knowledge: try ScanFixtures.knowledge, options: AnalysisOptions(formatHint: format))
        try analyzer.analyze(InputFile(path: "sample.log", contents: Array(text.utf8)))
        let result = analyzer.result()
        var out: [String] = []
        for exception in result.exceptions {
            let ports =
                exception.portFrom == exception.portTo
                ? "\(exception.portFrom)" : "\(exception.portFrom)-\(exception.portTo)"
            out.append(
                (exception.origin == .log ? "" : "\(exception.origin.rawValue) ")
                    + "\(exception.protocol.rawValue.uppercased()) \(ports)")
            if let program = exception.program { out.append("program \(program)") }
            if let service = exception.service { out.append("service \(service)") }
        }
        // Every finding, whichever signature raised it: a noise sample yields none at all.
        for finding in result.findings {
            let what = finding.code.map { "code \($0)" } ?? "finding \(finding.severity.rawValue)"
            out.append(finding.signature == signature.id ? what : "\(what) (\(finding.signature))")
        }
        return Array(Set(out)).sorted()
    }

    @Test func everySampleYieldsWhatItStates() throws {
        var missing: [String] = []
        for signature in try ScanFixtures.knowledge.signatures {
            for (index, sample) in signature.samples.enumerated() {
                let actual = try Self.yields(sample, of: signature)
                guard let stated = sample.yields else {
                    missing.append("\(signature.id) #\(index) | \(actual)")
                    continue
                }
                #expect(actual == stated.sorted(), "\(signature.id): \(sample.text.debugDescription)")
            }
        }
        if ProcessInfo.processInfo.environment["OCSLOG_PRINT_YIELDS"] == "1" {
            // (Printed as JSON, for copying into signatures.yaml.)
            for line in missing {
                let parts = line.components(separatedBy: " | ")
                print("YIELD \(parts[0]) \(parts[1])")
            }
        }
        #expect(missing.isEmpty, "\(missing.count) samples state no yields: \(missing.prefix(3))")
    }
}
