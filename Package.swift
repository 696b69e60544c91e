// swift-tools-version:6.0
// moetop: a terminal monitor for the router of a Mixture-of-Experts language model.
import Foundation
import PackageDescription

// The release kernels are built for the processor that builds them (AVX2 and FMA where it has
// them), as llama.cpp builds by default; MOETOP_PORTABLE=1 builds them for any processor of
// the architecture instead (x86-64: SSE2), for a binary that runs on other machines.
let kernelTarget: [String] =
    ProcessInfo.processInfo.environment["MOETOP_PORTABLE"] == "1" ? [] : ["-target-cpu", "native"]

let package = Package(
    name: "moetop",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "moetop", targets: ["moetop"])
    ],
    targets: [
        // System libraries (Debian: libncursesw5-dev, libopenblas-dev, zlib1g-dev).
        .systemLibrary(
            name: "CNCursesW",
            providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // GGUF container, tensor types, (de)quantisation, writer.
        .target(name: "MoEGGUF"),
        // Tokenizers built from GGUF metadata.
        .target(name: "MoETokenizer", dependencies: ["MoEGGUF"]),
        // Routing records, trace files, routing statistics. Needs no model.
        .target(name: "MoERouting", dependencies: ["CZlib"]),
        // Kernels, architectures, sampler, generator.
        .target(
            name: "MoEEngine",
            dependencies: ["MoEGGUF", "MoETokenizer", "MoERouting", "COpenBLAS"],
            swiftSettings: [
                .unsafeFlags(["-Ounchecked"] + kernelTarget, .when(configuration: .release))
            ]),
        // The expert-collapse audit and its reports.
        .target(name: "MoEAudit", dependencies: ["MoEEngine", "MoERouting"]),
        // The ncurses screen, panes, themes, input, replay transport.
        .target(name: "MoETUI", dependencies: ["MoERouting", "CNCursesW"]),
        // The command line: one file per command.
        .executableTarget(
            name: "moetop",
            dependencies: [
                "MoEGGUF", "MoETokenizer", "MoERouting", "MoEEngine", "MoEAudit", "MoETUI",
            ],
            // moetop-tiny, the embedded default model (Training/README.md): beside the binary
            // in moetop_moetop.resources/ after `swift build`.
            resources: [.copy("Resources/moetop-tiny.gguf")]),

        .testTarget(
            name: "MoEGGUFTests", dependencies: ["MoEGGUF"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "MoETokenizerTests", dependencies: ["MoETokenizer", "MoEGGUF"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "MoERoutingTests", dependencies: ["MoERouting"]),
        .testTarget(
            name: "MoEEngineTests", dependencies: ["MoEEngine", "MoEGGUF", "MoERouting"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "MoEAuditTests", dependencies: ["MoEAudit", "MoEEngine", "MoERouting"]),
        .testTarget(name: "MoETUITests", dependencies: ["MoETUI", "MoERouting"]),
        .testTarget(name: "moetopTests", dependencies: ["MoERouting", "MoEGGUF"]),
    ],
    swiftLanguageModes: [.v6]
)
