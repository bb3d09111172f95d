import Foundation
import FuzzTargets
import Testing

/// Replays every input the fuzzers found (and the seeds they started from) through its target:
/// `Inputs/<target>/<file>`. A crash here is a regression.
@Suite struct FuzzRegressionTests {
    static let inputs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Inputs")
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("corpus")

    static func files(_ folder: URL) -> [URL] {
        guard let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else {
            return []
        }
        return enumerator.compactMap { $0 as? URL }.filter { !$0.hasDirectoryPath }.sorted { $0.path < $1.path }
    }

    @Test(arguments: FuzzTarget.allCases)
    func regressionInputsReplay(target: FuzzTarget) throws {
        for file in Self.files(Self.inputs.appendingPathComponent(target.rawValue)) {
            let data = try Data(contentsOf: file)
            data.withUnsafeBytes { target.run($0) }
        }
    }

    /// The seeds: every corpus and adversarial log through every target that reads logs.
    @Test(arguments: FuzzTarget.allCases.filter { $0 != .knowledge })
    func corpusSeedsReplay(target: FuzzTarget) throws {
        let seeds =
            Self.files(Self.corpus.appendingPathComponent("logs"))
            + Self.files(Self.corpus.appendingPathComponent("adversarial"))
        #expect(seeds.count > 20)
        for file in seeds {
            let data = try Data(contentsOf: file)
            data.withUnsafeBytes { target.run($0) }
        }
    }

    @Test func theKnowledgeFilesReplayThroughTheLoader() throws {
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Knowledge/Data")
        // (The YAML files: the compiled knowledge.json is not a knowledge file.)
        let files = Self.files(data).filter { $0.pathExtension == "yaml" }
        #expect(files.count == 7)
        for file in files {
            let bytes = try Data(contentsOf: file)
            bytes.withUnsafeBytes { FuzzTarget.knowledge.run($0) }
        }
    }
}
