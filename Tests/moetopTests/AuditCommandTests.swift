import Foundation
import Testing

/// Runs the moetop binary for the audit tests (a namespace of its own, so that other commands'
/// helpers in this target cannot clash with it).
enum AuditHarness {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// $MOETOP_BIN (Scripts/test.sh sets it), else the debug build of this checkout.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["MOETOP_BIN"], !path.isEmpty {
            return path
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/moetop").path
    }()

    static func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // stderr carries only a few progress lines, so reading stdout first cannot block
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// `moetop audit` end to end: synthetic models with a collapsed and a balanced router, a quick
/// audit of the embedded model, bad prompt files and misuse.
@Suite struct AuditCommandTests {
    /// A fresh temporary folder.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "moetop-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The report fields the tests read.
    struct Report: Decodable {
        struct Check: Decodable {
            let id: String
            let verdict: String
            let summary: String
        }
        struct Distribution: Decodable {
            struct Layer: Decodable {
                let top3Share: Double
                let load: [Int]
            }
            let tokens: Int
            let layers: [Layer]
        }
        let verdict: String
        let quick: Bool
        let checks: [Check]
        let distribution: Distribution

        func verdict(of id: String) -> String? { checks.first { $0.id == id }?.verdict }
    }

    /// Writes a small qwen3moe with `router` into `directory` and audits it (quick).
    static func auditSynthetic(router: String, experts: Int, in directory: URL) throws -> (
        AuditHarness.Run, Report
    ) {
        let model = directory.appendingPathComponent("\(router).gguf")
        let json = directory.appendingPathComponent("\(router).json")
        let synth = try AuditHarness.run([
            "synth", "--arch", "qwen3moe", "--router", router, "--out", model.path, "--type",
            "F32", "--hidden", "64", "--layers", "2", "--heads", "2", "--experts", "\(experts)",
            "--top-k", "2", "--expert-ff", "32", "--vocab", "512", "--context", "2048",
        ])
        #expect(synth.status == 0, "\(synth.stderr)")
        let run = try AuditHarness.run([
            "audit", "-m", model.path, "--quick", "--threads", "1", "--json", json.path,
        ])
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: json))
        return (run, report)
    }

    @Test func collapsedRouterFailsTheRoutingDistributionCheck() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (run, report) = try Self.auditSynthetic(router: "collapsed", experts: 8, in: directory)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(report.verdict(of: "distribution.top3") == "fail")
        #expect(report.verdict == "fail")
        // two favoured experts take (nearly) every activation in every layer
        for layer in report.distribution.layers {
            #expect(layer.top3Share > 0.95, "top-3 share \(layer.top3Share)")
        }
        #expect(run.stdout.contains("FAIL  1 distribution.top3"))
    }

    @Test func balancedRouterPassesTheRoutingDistributionCheck() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (run, report) = try Self.auditSynthetic(router: "balanced", experts: 16, in: directory)
        #expect(run.status == 0 || run.status == 1, "\(run.stderr)")
        let top3 = report.checks.first { $0.id == "distribution.top3" }
        #expect(top3?.verdict == "pass", "\(top3?.summary ?? "no check")")
        #expect(report.distribution.layers.allSatisfy { $0.top3Share < 0.5 })
        // counts sum to tokens × k in every layer
        for layer in report.distribution.layers {
            #expect(layer.load.reduce(0, +) == 2 * report.distribution.tokens)
        }
    }

    /// Where the binary looks for the embedded model (EmbeddedModel.swift).
    static var embeddedModelPresent: Bool {
        if let path = ProcessInfo.processInfo.environment["MOETOP_MODEL"], !path.isEmpty {
            return FileManager.default.fileExists(atPath: path)
        }
        let directory = URL(fileURLWithPath: AuditHarness.binary).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        return [
            "moetop_moetop.resources/moetop-tiny.gguf", "../share/moetop/moetop-tiny.gguf",
        ].contains {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path)
        }
    }

    /// The CI audit: `--quick` on the embedded model, every report written.
    @Test(.enabled(if: embeddedModelPresent, "the embedded moetop-tiny is not installed"))
    func quickAuditOfTheEmbeddedModel() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = directory.appendingPathComponent("audit.json")
        let markdown = directory.appendingPathComponent("audit.md")
        let html = directory.appendingPathComponent("audit.html")
        let run = try AuditHarness.run([
            "audit", "--quick", "--json", json.path, "--markdown", markdown.path, "--html",
            html.path,
        ])
        #expect(run.status == 0 || run.status == 1, "\(run.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: json))
        #expect(report.quick)
        #expect(report.checks.count == 11)
        #expect((report.verdict == "fail") == (run.status == 1))
        let text = try String(contentsOf: markdown, encoding: .utf8)
        #expect(text.contains("## 5. Longitudinal stability"))
        let page = try String(contentsOf: html, encoding: .utf8)
        #expect(page.contains("<svg"))
        #expect(run.stderr.contains("audit: "))
    }

    @Test func badPromptFileIsNamedWithItsLine() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.jsonl")
        try Data("{\"id\": \"a\", \"domain\": \"x\", \"prompt\": \"p\"}\n{\"id\": \"b\"\n".utf8)
            .write(to: file)
        let run = try AuditHarness.run(["audit", "--prompts", directory.path, "-m", "/nonexistent"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("bad.jsonl:2: expected one JSON object per line"))
        let missing = try AuditHarness.run(["audit", "--prompts", "/nonexistent/prompts"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("/nonexistent/prompts: not a directory of prompt files"))
    }

    @Test(arguments: [
        ["audit", "--bogus"], ["audit", "extra"], ["audit", "--threads", "0"],
        ["audit", "--set", "nonsense=1"], ["audit", "--set", "distribution.top3.fail=2"],
        ["audit", "--set", "distribution.top3.fail"], ["audit", "--json", "-", "--html", "-"],
    ])
    func misuseExitsWithTwo(arguments: [String]) throws {
        let run = try AuditHarness.run(arguments)
        #expect(run.status == 2, "\(arguments): \(run.stderr)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("moetop: audit"))
    }

    @Test func helpListsEveryThreshold() throws {
        let run = try AuditHarness.run(["audit", "--help"])
        #expect(run.status == 0)
        for name in ["distribution.top3.fail", "stability.fragileMargin", "variance.outlierZ"] {
            #expect(run.stdout.contains(name))
        }
    }
}
