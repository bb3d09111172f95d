import Foundation
import FuzzTargets

#if FUZZING
    /// The target libFuzzer runs: `OCSLOG_FUZZ_TARGET` names it (reader, msi, html, xml, event, csv,
    /// knowledge, scan-to-rules, reg, netsh, netsh-config, event-xml, firewall-rules).
    let selectedTarget: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["OCSLOG_FUZZ_TARGET"] ?? "reader"
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("ocslog-fuzz: unknown OCSLOG_FUZZ_TARGET '\(name)'\n".utf8))
            exit(2)
        }
        return target
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
        selectedTarget.run(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
#else
    /// Without the fuzzer: `ocslog-fuzz TARGET FILE…` replays inputs through a target (a crash
    /// file from the fuzzer, a regression input).
    @main
    struct Replay {
        static func main() {
            let arguments = Array(CommandLine.arguments.dropFirst())
            guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
                let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
                FileHandle.standardError.write(Data("usage: ocslog-fuzz TARGET FILE… (targets: \(names))\n".utf8))
                exit(2)
            }
            for path in arguments.dropFirst() {
                guard let data = FileManager.default.contents(atPath: path) else {
                    FileHandle.standardError.write(Data("ocslog-fuzz: cannot read \(path)\n".utf8))
                    exit(2)
                }
                data.withUnsafeBytes { target.run($0) }
                print("\(name): \(path): ok")
            }
        }
    }
#endif
