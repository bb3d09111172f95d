// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ocslog",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ocslog", targets: ["ocslog"]),
        .library(name: "LogParser", targets: ["LogParser"]),
        .library(name: "RuleGen", targets: ["RuleGen"]),
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
        .target(name: "LogParser", dependencies: ["CPCRE2"]),
        .target(name: "RuleGen", dependencies: ["LogParser"]),
        .executableTarget(
            name: "ocslog",
            dependencies: [
                "LogParser", "RuleGen",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ocslog-bench",
            dependencies: [
                "LogParser",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "bench/Sources/ocslog-bench"
        ),
        .testTarget(name: "LogParserTests", dependencies: ["LogParser", "Yams"]),
        .testTarget(name: "RuleGenTests", dependencies: ["RuleGen"]),
        .testTarget(name: "ocslogTests", dependencies: ["LogParser"]),
    ],
    swiftLanguageModes: [.v6]
)
