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
    ],
    targets: [
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        .target(name: "PCRE2", dependencies: ["CPCRE2"]),
        .target(
            name: "Knowledge",
            dependencies: ["PCRE2", "Yams"],
            resources: [
                .embedInCode("Data/roles.yaml"), .embedInCode("Data/ports.yaml"),
                .embedInCode("Data/signatures.yaml"), .embedInCode("Data/known-issues.yaml"),
                .embedInCode("Data/codes.yaml"), .embedInCode("Data/fields.yaml"),
                .embedInCode("Data/firewall.yaml"),
            ]
        ),
        .target(name: "LogParser", dependencies: ["PCRE2", "Knowledge"]),
        .target(name: "RuleGen", dependencies: ["LogParser", "Knowledge", "Yams"]),
        .target(name: "Report", dependencies: ["LogParser", "Knowledge"]),
        // Fuzzing: the targets as a library (replayed by the tests), and the libFuzzer entry point
        // (built with -DFUZZING and the fuzzer sanitizer by fuzz/run.sh; a replay tool otherwise).
        .target(name: "FuzzTargets", dependencies: ["LogParser", "RuleGen", "Knowledge"]),
        .executableTarget(name: "ocslog-fuzz", dependencies: ["FuzzTargets"]),
        .executableTarget(
            name: "ocslog",
            dependencies: [
                "LogParser", "RuleGen", "Report", "Knowledge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ocslog-bench",
            dependencies: [
                "LogParser", "PCRE2",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "bench/Sources/ocslog-bench"
        ),
        .testTarget(name: "LogParserTests", dependencies: ["LogParser", "PCRE2", "Knowledge", "Yams"]),
        .testTarget(name: "KnowledgeTests", dependencies: ["Knowledge", "PCRE2"]),
        .testTarget(
            name: "RuleGenTests", dependencies: ["RuleGen", "Knowledge", "LogParser", "Report"],
            exclude: ["Golden", "netns-probe.sh", "netns-topology-probe.sh"]),
        .testTarget(
            name: "ReportTests", dependencies: ["Report", "LogParser", "Knowledge", "Yams"], exclude: ["Golden"]),
        .testTarget(name: "ocslogTests", dependencies: ["LogParser", "Knowledge", "Yams"]),
        .testTarget(
            name: "FuzzRegressionTests", dependencies: ["FuzzTargets", "LogParser", "Knowledge", "RuleGen"],
            exclude: ["Inputs"]),
    ],
    swiftLanguageModes: [.v6]
)

// Every file imports the modules whose members it uses (not only those another file imported).
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
