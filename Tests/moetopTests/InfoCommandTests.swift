import Foundation
import MoEGGUF
import MoERouting
import Testing

/// `moetop info` end to end: its tensor listing against gguf-dump's, its counts against gguf-py,
/// and its behaviour on malformed files and misuse.
@Suite struct InfoCommandTests {
    static let fixtures = InfoHarness.packageRoot.appendingPathComponent(
        "Tests/MoEGGUFTests/Fixtures")

    /// The gguf-dump references (Scripts/fixtures/gguf_dump_reference.py).
    static let references: [String] = {
        let directory = fixtures.appendingPathComponent("dump")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    struct Reference: Decodable {
        struct Dump: Decodable {
            struct Tensor: Decodable {
                let name: String
                let index: Int
                let shape: [Int]
                let type: String
                let offset: Int
            }
            let version: Int
            let tensor_count: Int
            let kv_count: Int
            let tensors: [Tensor]
        }
        let fixture: String
        let gguf_dump: Dump
        let gguf_reader_data_ranges: [String: [Int]]
    }

    struct Report: Decodable {
        struct Tensor: Decodable {
            let name: String
            let type: String
            let shape: [Int]
            let info_offset: Int
            let start: Int
            let end: Int
        }
        struct Parameters: Decodable {
            let total: Int
            let active: Int
            let routed: Int
            let shared: Int
            let per_expert: [Int]
        }
        let version: Int
        let tensor_count: Int
        let metadata_keys: Int
        let architecture: String?
        let layers: Int?
        let moe_layers: [Int]
        let experts: Int
        let experts_used: Int
        let shared_experts: Int
        let context_length: Int?
        let tensor_types: [String: Int]
        let parameters: Parameters
        let tensors: [Tensor]?
    }

    @Test("the reference listings cover every tensor type")
    func referencesCoverEveryType() throws {
        var types = Set<String>()
        for name in Self.references {
            let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("dump/\(name)"))
            let reference = try JSONDecoder().decode(Reference.self, from: data)
            types.formUnion(reference.gguf_dump.tensors.map(\.type))
        }
        let all: Set = [
            "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K",
            "Q5_K",
            "Q6_K", "Q8_K",
        ]
        #expect(all.isSubset(of: types), "missing: \(all.subtracting(types))")
    }

    @Test("info --json --tensors agrees with gguf-dump", arguments: references)
    func agreesWithGGUFDump(reference name: String) throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("dump/\(name)"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        let run = try InfoHarness.run([
            "info", "--json", "--tensors",
            Self.fixtures.appendingPathComponent(reference.fixture).path,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
        let dump = reference.gguf_dump
        #expect(report.version == dump.version)
        #expect(report.tensor_count == dump.tensor_count)
        #expect(report.metadata_keys == dump.kv_count)
        let tensors = try #require(report.tensors)
        #expect(tensors.map(\.name) == dump.tensors.sorted { $0.index < $1.index }.map(\.name))
        for (tensor, expected) in zip(tensors, dump.tensors.sorted { $0.index < $1.index }) {
            #expect(tensor.type == expected.type, "\(tensor.name)")
            #expect(tensor.shape == expected.shape, "\(tensor.name)")
            #expect(tensor.info_offset == expected.offset, "\(tensor.name)")
            #expect(
                [tensor.start, tensor.end] == reference.gguf_reader_data_ranges[tensor.name],
                "\(tensor.name)")
        }
    }

    @Test("info reports the MoE structure and counts that gguf-py gives")
    func moeFacts() throws {
        struct Expected: Decodable {
            let block_count: Int
            let expert_count: Int
            let expert_used_count: Int
            let context_length: Int
            let total: Int
            let active: Int
            let routed: Int
            let shared: Int
            let moe_layers: [Int]
            let routed_expert_parameters: [Int]
            let type_histogram: [String: Int]
        }
        let expected = try JSONDecoder().decode(
            Expected.self,
            from: Data(contentsOf: Self.fixtures.appendingPathComponent("moe/tiny_qwen2moe.json")))
        let path = Self.fixtures.appendingPathComponent("moe/tiny_qwen2moe.gguf").path
        let json = try InfoHarness.run(["info", "-m", path, "--json"])
        #expect(json.status == 0)
        let report = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8))
        #expect(report.architecture == "qwen2moe")
        #expect(report.layers == expected.block_count)
        #expect(report.moe_layers == expected.moe_layers)
        #expect(report.experts == expected.expert_count)
        #expect(report.experts_used == expected.expert_used_count)
        #expect(report.shared_experts == 1)
        #expect(report.context_length == expected.context_length)
        #expect(report.tensor_types == expected.type_histogram)
        #expect(report.parameters.total == expected.total)
        #expect(report.parameters.active == expected.active)
        #expect(report.parameters.routed == expected.routed)
        #expect(report.parameters.shared == expected.shared)
        #expect(report.parameters.per_expert == expected.routed_expert_parameters)
        #expect(report.tensors == nil)

        let text = try InfoHarness.run(["info", path])
        #expect(text.status == 0)
        #expect(text.stderr.isEmpty)
        for line in [
            "architecture    qwen2moe", "MoE layers      2 of 3 (blocks 1-2)",
            "experts         4 per MoE layer",
            "experts used    2 per token (top-2)", "shared experts  1 per MoE layer",
            "context length  256 tokens",
            "tokenizer       gpt2 (pre-tokenizer qwen2), 40 tokens", "(\(expected.total)),",
        ] {
            #expect(text.stdout.contains(line), "missing '\(line)' in:\n\(text.stdout)")
        }
    }

    /// Malformed files written to a temporary directory.
    static func malformedFiles() throws -> [(String, [UInt8])] {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("qwen3moe"))
        writer.add("qwen3moe.block_count", .uint32(1))
        writer.add("qwen3moe.embedding_length", .uint32(32))
        writer.add("qwen3moe.attention.head_count", .uint32(4))
        writer.add("qwen3moe.expert_count", .uint32(4))
        writer.add("qwen3moe.expert_used_count", .uint32(6))
        writer.addTensor(
            "blk.0.ffn_gate_inp.weight", type: .f32, shape: [32, 4],
            values: Array(repeating: 0, count: 128))
        let lying = writer.bytes()
        var badMagic = lying
        badMagic[0] = 0x58
        var nested = lying
        nested[4] = 9
        return [
            ("lying.gguf", lying), ("bad-magic.gguf", badMagic),
            ("truncated.gguf", Array(lying.prefix(40))),
            ("version-9.gguf", nested), ("empty.gguf", []),
        ]
    }

    @Test("a malformed file gives one line on stderr and exit status 1")
    func malformedFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "moetop-info-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, bytes) in try Self.malformedFiles() {
            let url = directory.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            let run = try InfoHarness.run(["info", url.path])
            #expect(run.status == 1, "\(name)")
            #expect(run.stdout.isEmpty, "\(name)")
            #expect(run.stderrLines.count == 1, "\(name): \(run.stderr)")
            #expect(run.stderr.hasPrefix("moetop: \(url.path)"), "\(name): \(run.stderr)")
        }
        let missing = try InfoHarness.run([
            "info", directory.appendingPathComponent("absent.gguf").path,
        ])
        #expect(missing.status == 1)
        #expect(missing.stderrLines.count == 1)
        let noModel = try InfoHarness.run(
            ["info"],
            environment: ["MOETOP_MODEL": directory.appendingPathComponent("none.gguf").path])
        #expect(noModel.status == 1)
        #expect(noModel.stderrLines.count == 1)
    }

    /// A real model file cut short at 48 places and with 48 seeded byte changes in its
    /// header: each run exits 0 or 1 (never a signal), and a refusal is one line naming the file.
    @Test("truncated and mutated models: exit 1 and one line, never a crash")
    func truncatedAndMutatedModels() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "moetop-info-mutants-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("source.gguf")
        let synth = try InfoHarness.run([
            "synth", "--arch", "olmoe", "--out", source.path, "--layers", "2", "--hidden", "64",
            "--experts", "4", "--expert-ff", "32", "--vocab", "300",
        ])
        try #require(synth.status == 0, "\(synth.stderr)")
        let original = [UInt8](try Data(contentsOf: source))

        var generator = SeededRandom(seed: 20_261_204)  // a failing mutant can be made again
        var variants: [(String, [UInt8])] = (1...48).map { index in
            let length = original.count * index / 49
            return ("cut-\(length).gguf", Array(original.prefix(length)))
        }
        let headerEnd = min(original.count, 8192)
        for index in 0..<48 {
            var bytes = original
            for _ in 0...(index % 4) {
                bytes[Int(generator.next() % UInt64(headerEnd))] = UInt8(
                    truncatingIfNeeded: generator.next())
            }
            variants.append(("mutant-\(index).gguf", bytes))
        }
        var refused = 0
        for (name, bytes) in variants {
            let url = directory.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            let run = try InfoHarness.run(["info", url.path])
            #expect(run.status == 0 || run.status == 1, "\(name): status \(run.status)")
            if run.status == 1 {
                refused += 1
                #expect(run.stderrLines.count == 1, "\(name): \(run.stderr)")
                #expect(run.stderr.hasPrefix("moetop: \(url.path)"), "\(name): \(run.stderr)")
            }
        }
        // every cut is refused; a changed byte may land where any value is valid (a string)
        #expect(refused >= 48, "refused \(refused) of \(variants.count)")
    }

    @Test(
        "misuse exits 2 with one line",
        arguments: [
            ["--bogus"], ["a.gguf", "b.gguf"], ["-m", "a.gguf", "b.gguf"], ["--json=yes"], ["-m"],
        ])
    func misuse(arguments: [String]) throws {
        let run = try InfoHarness.run(["info"] + arguments)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrLines.count == 1, "\(run.stderr)")
    }

    @Test("--help prints the usage and exits 0")
    func help() throws {
        let run = try InfoHarness.run(["info", "--help"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("usage: moetop info"))
        #expect(run.stderr.isEmpty)
    }
}
