// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ocslog",
    products: [
        .executable(name: "ocslog", targets: ["ocslog"]),
        .library(name: "LogParser", targets: ["LogParser"]),
        .library(name: "RuleGen", targets: ["RuleGen"]),
        .library(name: "Report", targets: ["Report"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        .target(name: "PCRE2", dependencies: ["CPCRE2"]),
        // The shared vocabulary of a scan's result (roles, ports, codes, evidence, findings): no
        // dependencies, below the knowledge, the parser, the rule writers and the reports.
        .target(name: "ScanModel"),
        // Every call to the operating system, in one file.
        .target(name: "SystemCalls", dependencies: [.product(name: "SystemPackage", package: "swift-system")]),
        .target(
            name: "Knowledge",
            dependencies: ["ScanModel", "SystemCalls", "PCRE2", "Yams"],
            // The YAML files are the source; the binary embeds their compiled form (JSON decodes
            // several times faster at start-up). KnowledgeTests checks it is current.
            exclude: [
                "Data/roles.yaml", "Data/ports.yaml", "Data/signatures.yaml", "Data/known-issues.yaml",
                "Data/codes.yaml", "Data/fields.yaml", "Data/firewall.yaml",
            ],
            resources: [.embedInCode("Data/knowledge.json")]
        ),
        .target(
            name: "LogParser", dependencies: ["ScanModel", "SystemCalls", "PCRE2", "Knowledge"],
            // Lines and records are non-escapable views of the reader's buffer (`Span`): they cannot
            // outlive the callback they are given to.
            swiftSettings: [.enableExperimentalFeature("Lifetimes")]),
        .target(name: "RuleGen", dependencies: ["ScanModel", "SystemCalls", "Knowledge", "Yams"]),
        .target(name: "Report", dependencies: ["ScanModel", "Knowledge"]),
        // Fuzzing: the targets as a library (replayed by the tests), and the libFuzzer entry point
        // (built with -DFUZZING and the fuzzer sanitizer by fuzz/run.sh; a replay tool otherwise).
        .target(name: "FuzzTargets", dependencies: ["ScanModel", "SystemCalls", "LogParser", "RuleGen", "Knowledge"]),
        .executableTarget(name: "ocslog-fuzz", dependencies: ["FuzzTargets"]),
        .executableTarget(
            name: "ocslog",
            dependencies: [
                "ScanModel", "SystemCalls", "LogParser", "RuleGen", "Report", "Knowledge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ocslog-bench",
            dependencies: [
                "ScanModel", "LogParser", "PCRE2",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "bench/Sources/ocslog-bench"
        ),
        // What the test targets share: the binary runner, fixtures, snapshots.
        .target(name: "TestSupport", dependencies: ["Knowledge"], path: "Tests/TestSupport"),
        .testTarget(
            name: "LogParserTests",
            dependencies: ["ScanModel", "TestSupport", "LogParser", "PCRE2", "Knowledge", "Yams"]),
        .testTarget(name: "KnowledgeTests", dependencies: ["ScanModel", "TestSupport", "Knowledge", "PCRE2"]),
        .testTarget(
            name: "RuleGenTests",
            dependencies: ["ScanModel", "TestSupport", "RuleGen", "Knowledge", "LogParser", "Report"],
            exclude: ["Golden", "netns-probe.sh", "netns-topology-probe.sh"]),
        .testTarget(
            name: "ReportTests",
            dependencies: ["ScanModel", "TestSupport", "Report", "LogParser", "Knowledge", "Yams"],
            exclude: ["Snapshots"]),
        .testTarget(name: "ocslogTests", dependencies: ["ScanModel", "TestSupport", "LogParser", "Knowledge", "Yams"]),
        .testTarget(
            name: "FuzzRegressionTests",
            dependencies: ["ScanModel", "FuzzTargets", "LogParser", "Knowledge", "RuleGen"],
            exclude: ["Inputs"]),
    ],
    swiftLanguageModes: [.v6]
)

// Every file imports the modules whose members it uses (not only those another file imported).
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
