// swift-tools-version:6.1
import PackageDescription

let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")

let package = Package(
  name: "opsdeck",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "opsdeck", targets: ["opsdeck"])
  ],
  dependencies: [
    .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
  ],
  targets: [
    // C libraries enter through one system-library target each (see STYLE.md).
    .systemLibrary(name: "CNCurses", path: "Sources/CNCurses"),
    .systemLibrary(name: "CCurl", path: "Sources/CCurl"),

    // Bottom layer.
    .target(
      name: "Storage", dependencies: [grdb, .product(name: "GRDBSQLite", package: "GRDB.swift"), logging]),
    .target(
      name: "Scheduler",
      dependencies: ["Storage", grdb, logging, .product(name: "HeapModule", package: "swift-collections")]
    ),
    // Engines.
    .target(name: "Resilience", dependencies: ["Storage", grdb, logging]),
    .target(
      name: "Delivery",
      dependencies: [
        "Resilience", "Scheduler", "Storage", "CCurl", grdb, logging, .product(name: "Crypto", package: "swift-crypto"),
      ]),
    .target(name: "Alerting", dependencies: ["Delivery", "Resilience", "Scheduler", "Storage", grdb, logging]),
    .target(
      name: "Lifecycle",
      dependencies: [
        "Delivery", "Scheduler", "Storage", grdb, logging,
        .product(name: "Mustache", package: "swift-mustache"), .product(name: "Crypto", package: "swift-crypto"),
      ]
    ),
    .target(name: "Analytics", dependencies: ["Storage", grdb, logging]),
    .target(
      name: "Console",
      dependencies: ["Alerting", "Lifecycle", "Analytics", "Resilience", "Scheduler", "Storage", "CNCurses", logging]
    ),
    // Wiring, configuration, demo.
    .target(
      name: "OpsDeck",
      dependencies: [
        "Console", "Alerting", "Lifecycle", "Analytics", "Delivery", "Resilience", "Scheduler", "Storage",
        grdb, logging, "TOMLKit",
      ]
    ),
    // The executable: argument parsing only.
    .executableTarget(
      name: "opsdeck",
      dependencies: [
        "OpsDeck", "Analytics", "Console", "Lifecycle", "Scheduler", "Storage", logging,
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    .executableTarget(
      name: "opsdeck-bench",
      dependencies: [
        "OpsDeck", "Analytics", "Console", "Alerting", "Lifecycle", "Scheduler", "Resilience", "Storage", grdb, logging,
        .product(name: "GRDBSQLite", package: "GRDB.swift"),
      ]),

    .testTarget(name: "StorageTests", dependencies: ["Storage", grdb]),
    .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "Storage", grdb]),
    .testTarget(name: "ResilienceTests", dependencies: ["Resilience", "Storage", grdb]),
    .testTarget(name: "DeliveryTests", dependencies: ["Delivery", "Resilience", "Storage"]),
    .testTarget(name: "AlertingTests", dependencies: ["Alerting", "Storage", grdb]),
    .testTarget(name: "LifecycleTests", dependencies: ["Lifecycle", "Scheduler", "Storage", grdb]),
    .testTarget(name: "AnalyticsTests", dependencies: ["Analytics", "Storage", grdb]),
    .testTarget(
      name: "ConsoleTests",
      dependencies: ["Analytics", "Console", "Lifecycle", "Resilience", "Scheduler", "Storage", grdb],
      exclude: ["Snapshots"]),
    .testTarget(name: "OpsDeckTests", dependencies: ["OpsDeck", "Storage"]),
    .testTarget(name: "EndToEndTests", dependencies: ["opsdeck", "Storage", grdb]),
  ]
)
