import Foundation
import Testing

/// `moetop tokenize` end to end, on the tokenizer fixtures of MoETokenizerTests (their ids come
/// from the `tokenizers` and `sentencepiece` libraries).
@Suite struct TokenizeCommandTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent(
        "Tests/MoETokenizerTests/Fixtures/tokenizer")

    static func model(_ name: String) -> String {
        fixtures.appendingPathComponent("\(name).gguf").path
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs moetop ($MOETOP_BIN, else .build/debug/moetop) with optional standard input.
    static func run(_ arguments: [String], input: String? = nil) throws -> Run {
        let binary =
            ProcessInfo.processInfo.environment["MOETOP_BIN"].flatMap { $0.isEmpty ? nil : $0 }
            ?? packageRoot.appendingPathComponent(".build/debug/moetop").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        let stdin = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Reference ids of one hard string for one fixture vocabulary.
    static func golden(_ name: String, _ text: String) throws -> [Int] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("goldens.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let strings = json["strings"] as! [String]
        let index = try #require(strings.firstIndex(of: text))
        let models = json["models"] as! [String: Any]
        let model = models[name] as! [String: Any]
        let cases = model["cases"] as! [[String: Any]]
        return (cases[index]["ids"] as! [NSNumber]).map(\.intValue)
    }

    /// The BOS id the fixture `name` stores.
    static func bos(_ name: String) throws -> Int {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("goldens.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let model = (json["models"] as! [String: Any])[name] as! [String: Any]
        return (model["bos"] as! NSNumber).intValue
    }

    static let text = "The quick brown fox jumps over the lazy dog."

    @Test(arguments: ["qwen2", "gpt2", "spm"])
    func printsTheReferenceIds(name: String) throws {
        let run = try Self.run(["tokenize", "-m", Self.model(name), "--no-bos", Self.text])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout == (try Self.golden(name, Self.text)).map(String.init).joined(separator: " ")
                + "\n")
    }

    @Test func addsBOSWhenTheModelAsks() throws {
        let plain = try Self.run(["tokenize", "-m", Self.model("llama-bpe"), "--no-bos", "Hello"])
        let withBOS = try Self.run(["tokenize", "-m", Self.model("llama-bpe"), "Hello"])
        // the llama-bpe fixture stores add_bos_token = true and BOS <|begin_of_text|>
        #expect(withBOS.stdout == "\(try Self.bos("llama-bpe")) " + plain.stdout)
    }

    @Test func piecesAreOneTokenPerLine() throws {
        let run = try Self.run(["tokenize", "-m", Self.model("qwen2"), "--pieces", "a\nb 😀"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let ids = try Self.run(["tokenize", "-m", Self.model("qwen2"), "a\nb 😀"]).stdout
        #expect(
            lines.map { String($0.split(separator: "\t")[0]) }.joined(separator: " ") + "\n" == ids)
        #expect(
            lines.allSatisfy {
                $0.split(separator: "\t", omittingEmptySubsequences: false).count == 2
            })
        #expect(lines.contains { $0.hasSuffix("\t\\n") })
    }

    @Test func fileAndStandardInputMatchTheArgument() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "moetop-tokenize-\(UUID().uuidString).txt")
        try Data("line one\nline two".utf8).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let argument = try Self.run(["tokenize", "-m", Self.model("qwen2"), "line one\nline two"])
        let file = try Self.run(["tokenize", "-m", Self.model("qwen2"), "--file", path.path])
        let piped = try Self.run(
            ["tokenize", "-m", Self.model("qwen2")], input: "line one\nline two")
        #expect(file.stdout == argument.stdout)
        #expect(piped.stdout == argument.stdout)
    }

    @Test func specialTokenTextIsParsedUnlessAsked() throws {
        let parsed = try Self.run(["tokenize", "-m", Self.model("qwen2"), "<|im_end|>"])
        let plain = try Self.run([
            "tokenize", "-m", Self.model("qwen2"), "--no-special", "<|im_end|>",
        ])
        #expect(parsed.stdout == "1002\n")
        #expect(plain.stdout.split(separator: " ").count > 1)
    }

    static let misuse: [([String], Int32, String)] = [
        (["tokenize", "--bogus"], 2, "unknown option --bogus"),
        (["tokenize", "-m"], 2, "needs a value"),
        (["tokenize", "a", "b"], 2, "unexpected argument"),
        (["tokenize", "--file", "/nonexistent/x.txt", "-m", "MODEL"], 1, "/nonexistent/x.txt"),
        (["tokenize", "-m", "/nonexistent/model.gguf", "x"], 1, "/nonexistent/model.gguf"),
    ]

    @Test(arguments: misuse)
    func misuseIsReported(arguments: [String], status: Int32, message: String) throws {
        let arguments = arguments.map { $0 == "MODEL" ? Self.model("qwen2") : $0 }
        let run = try Self.run(arguments)
        #expect(run.status == status)
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test func helpGoesToStandardOutput() throws {
        let run = try Self.run(["tokenize", "--help"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("usage: moetop tokenize"))
    }
}
