import Foundation
import MoEGGUF
import Testing

/// The moetop binary: $MOETOP_BIN (Scripts/test.sh sets it), else the build beside the test
/// executable.
private func moetopBinary() -> String {
    if let path = ProcessInfo.processInfo.environment["MOETOP_BIN"], !path.isEmpty {
        return path
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("moetop").path
}

/// Runs moetop with `arguments`; returns the exit status and standard error.
private func runMoetop(_ arguments: [String]) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: moetopBinary())
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (
        process.terminationStatus, String(decoding: out, as: UTF8.self),
        String(decoding: err, as: UTF8.self)
    )
}

/// The element count of an array value.
private func arrayCount(_ value: GGUFValue?) -> Int? {
    if case .array(let array)? = value { return array.count }
    return nil
}

@Suite("moetop synth")
struct SynthCommandTests {
    static let tiny = [
        "--hidden", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--experts", "4",
        "--top-k", "2", "--expert-ff", "64", "--vocab", "300",
    ]

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("moetop-synth-\(UUID().uuidString)-\(name).gguf").path
    }

    @Test(
        "writes llama.cpp's names, shapes and keys",
        arguments: ["qwen3moe", "qwen2moe", "olmoe", "llama", "granitemoe"])
    func writesArchitecture(arch: String) throws {
        let path = Self.temporaryPath(arch)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try runMoetop(
            ["synth", "--arch", arch, "--out", path, "--type", "F32"] + Self.tiny)
        #expect(result.status == 0, "\(result.stderr)")
        let file = try GGUFFile(path: path)
        let metadata = file.metadata
        #expect(try metadata.requiredString("general.architecture") == arch)
        #expect(try metadata.requiredInt("\(arch).block_count") == 2)
        #expect(try metadata.requiredInt("\(arch).expert_count") == 4)
        #expect(try metadata.requiredInt("\(arch).expert_used_count") == 2)
        #expect(try metadata.requiredString("tokenizer.ggml.model") == "gpt2")
        #expect(arrayCount(metadata["tokenizer.ggml.tokens"]) == 300)
        #expect(arrayCount(metadata["tokenizer.ggml.merges"]) == 300 - 259)

        // shapes in ggml order: [columns, rows, experts]
        func shape(_ name: String) -> [Int]? { file.tensor(named: name)?.shape }
        #expect(shape("token_embd.weight") == [64, 300])
        #expect(shape("blk.1.attn_q.weight") == [64, 64])
        #expect(shape("blk.1.attn_k.weight") == [64, 32])
        #expect(shape("blk.1.attn_output.weight") == [64, 64])
        #expect(shape("blk.1.ffn_gate_inp.weight") == [64, 4])
        #expect(shape("blk.1.ffn_gate_exps.weight") == [64, 64, 4])
        #expect(shape("blk.1.ffn_up_exps.weight") == [64, 64, 4])
        #expect(shape("blk.1.ffn_down_exps.weight") == [64, 64, 4])
        #expect(file.tensor(named: "blk.0.ffn_gate_inp.weight")?.type == .f32)
        switch arch {
        case "qwen3moe":
            #expect(shape("blk.0.attn_q_norm.weight") == [16])
        case "olmoe":
            #expect(shape("blk.0.attn_q_norm.weight") == [64])
            #expect(shape("blk.0.attn_k_norm.weight") == [32])
        case "qwen2moe":
            #expect(shape("blk.0.attn_q.bias") == [64])
            #expect(shape("blk.0.ffn_gate_inp_shexp.weight") == [64])
            #expect(shape("blk.0.ffn_down_shexp.weight") == [64, 64])
        case "granitemoe":
            #expect(try metadata.requiredFloat("granitemoe.logit_scale") == 8)
            #expect(file.tensor(named: "output.weight") == nil)
        default:
            #expect(file.tensor(named: "output.weight") != nil)
        }
    }

    @Test("the same seed writes the same bytes; another seed does not")
    func deterministic() throws {
        let paths = (0..<3).map { Self.temporaryPath("seed\($0)") }
        defer { paths.forEach { try? FileManager.default.removeItem(atPath: $0) } }
        for (path, seed) in zip(paths, ["7", "7", "8"]) {
            let result = try runMoetop(
                ["synth", "--arch", "qwen3moe", "--out", path, "--type", "Q8_0", "--seed", seed]
                    + Self.tiny)
            #expect(result.status == 0, "\(result.stderr)")
        }
        let contents = try paths.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        #expect(contents[0] == contents[1])
        #expect(contents[0] != contents[2])
    }

    @Test("every --type stores the matrices in it", arguments: synthTypes)
    func storesType(type: String, expected: [String: String]) throws {
        let path = Self.temporaryPath(type)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try runMoetop([
            "synth", "--arch", "qwen3moe", "--out", path, "--type", type, "--hidden", "256",
            "--layers", "8", "--heads", "4", "--experts", "1", "--top-k", "1", "--expert-ff",
            "256", "--vocab", "300",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let file = try GGUFFile(path: path)
        for (name, typeName) in expected {
            #expect(file.tensor(named: name)?.type.name == typeName, "\(name)")
        }
        #expect(file.tensor(named: "blk.0.attn_norm.weight")?.type == .f32)
    }

    static let synthTypes: [(String, [String: String])] =
        ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"].map {
            ($0, ["blk.3.attn_q.weight": $0, "blk.3.ffn_down_exps.weight": $0])
        } + [
            (
                "Q4_K_M",
                [
                    "blk.3.attn_q.weight": "Q4_K", "blk.0.attn_v.weight": "Q6_K",
                    "blk.2.attn_v.weight": "Q4_K", "blk.3.ffn_down_exps.weight": "Q6_K",
                    "output.weight": "Q6_K", "token_embd.weight": "Q4_K",
                ]
            )
        ]

    @Test(
        "misuse exits 2 with a message",
        arguments: [
            (["synth", "--out", "/tmp/x.gguf"], "--arch is required"),
            (["synth", "--arch", "gpt5", "--out", "/tmp/x.gguf"], "unsupported architecture"),
            (["synth", "--arch", "olmoe"], "--out FILE is required"),
            (["synth", "--arch", "olmoe", "--out", "/tmp/x.gguf", "--type", "Q9"], "--type"),
            (
                [
                    "synth", "--arch", "olmoe", "--out", "/tmp/x.gguf", "--experts", "4", "--top-k",
                    "5",
                ],
                "--top-k"
            ),
            (
                [
                    "synth", "--arch", "llama", "--out", "/tmp/x.gguf", "--heads", "6",
                    "--kv-heads", "4",
                ],
                "multiple of --kv-heads"
            ),
            (["synth", "--arch", "olmoe", "--out", "/tmp/x.gguf", "--shared-ff", "64"], "shared"),
            (
                ["synth", "--arch", "llama", "--out", "/tmp/x.gguf", "--dense-ff", "64"],
                "--expert-ff"
            ),
            (
                ["synth", "--arch", "llama", "--out", "/tmp/x.gguf", "--hidden", "80"],
                "multiple of 32"
            ),
        ])
    func misuse(arguments: [String], message: String) throws {
        let result = try runMoetop(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}
