import Foundation
import MoEGGUF

let infoUsage = """
    usage: moetop info [MODEL] [-m MODEL] [--json] [--tensors]

    Shows what a GGUF model file holds: architecture, layers and MoE layers, experts, experts
    used per token, shared experts, context length, tokenizer and vocabulary, tensor types, file
    size, total and configured active parameters. The file is memory-mapped and fully
    validated; only the header is read.

    MODEL, -m, --model FILE   the GGUF file (default: the embedded moetop-tiny model)
    --json                    the same facts as one JSON object on stdout
    --tensors                 also list every tensor: type, shape (ne[0] first), byte range
    -h, --help                this help

    Exit status: 0 success, 1 unreadable or invalid file, 2 command-line misuse.
    """

/// `moetop info`: the facts of a model file, for people (text) or machines (`--json`).
func runInfo(_ arguments: [String]) throws -> Int32 {
    let options = try Arguments(
        command: "info", arguments, options: ["--model"], flags: ["--json", "--tensors", "--help"],
        aliases: ["-m": "--model", "-h": "--help"])
    if options.flag("--help") {
        print(infoUsage)
        return 0
    }
    try options.expectPositional(atMost: 1)
    if options.string("--model") != nil, !options.positional.isEmpty {
        throw UsageError("info: give the model once, as MODEL or with -m, not both")
    }
    let url = try modelURL(options.string("--model") ?? options.positional.first)

    // read and validate
    let file = try GGUFFile(url: url)
    let report = try InfoReport(file: file, includeTensors: options.flag("--tensors"))

    // print
    if options.flag("--json") {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } else {
        print(report.text(), terminator: "")
    }
    return 0
}

/// Everything `info` reports, built from a validated file. Also the `--json` schema (property
/// names in snake_case; absent facts are omitted).
struct InfoReport: Encodable {
    struct Tokenizer: Encodable {
        var model: String?
        var pre: String?
        var vocabularySize: Int?
    }
    struct Parameters: Encodable {
        var total: Int
        var totalBytes: Int
        var embedding: Int
        var alwaysOn: Int
        var routed: Int
        var shared: Int
        /// Configured active parameters per token.
        var active: Int
        var activeBytes: Int
        /// Per MoE layer (in `moeLayers` order): one routed expert.
        var perExpert: [Int]
        var perExpertBytes: [Int]
    }
    struct Tensor: Encodable {
        var name: String
        var type: String
        var shape: [Int]
        var elements: Int
        /// Where the tensor's info record starts in the header (gguf-dump's "offset").
        var infoOffset: Int
        /// The data's byte range in the file, [start, end).
        var start: Int
        var end: Int
    }

    var file: String
    var fileSize: Int
    var version: Int
    var alignment: Int
    var dataOffset: Int
    var metadataKeys: Int
    /// False for a GGUF file that carries no model (no architecture, block_count or tensors).
    var isModel: Bool
    var architecture: String?
    var name: String?
    var layers: Int?
    var moeLayers: [Int]
    var experts: Int
    var expertsUsed: Int
    var sharedExperts: Int
    var contextLength: Int?
    var embeddingLength: Int?
    var tokenizer: Tokenizer
    var tensorCount: Int
    var tensorTypes: [String: Int]
    var parameters: Parameters
    var tensors: [Tensor]?

    init(file: GGUFFile, includeTensors: Bool) throws {
        let metadata = file.metadata
        self.file = file.path
        fileSize = file.fileSize
        version = Int(file.version)
        alignment = file.alignment
        dataOffset = file.dataOffset
        metadataKeys = metadata.count
        tensorCount = file.tensors.count
        tensorTypes = file.tensors.reduce(into: [:]) { $0[$1.type.name, default: 0] += 1 }

        // a model file is validated whole; a GGUF without a model (no architecture, no
        // block_count, or no tensors, like llama.cpp's vocabulary-only files) is described as a
        // container
        let architecture = try metadata.optionalString("general.architecture")
        let configuration: ModelConfiguration?
        if let architecture, metadata.contains(architecture + ".block_count"), !file.tensors.isEmpty
        {
            configuration = try ModelConfiguration(file: file)
        } else {
            configuration = nil
        }
        isModel = configuration != nil
        self.architecture = architecture
        name = try configuration?.name ?? metadata.optionalString("general.name")
        layers = configuration?.blockCount
        contextLength = configuration?.contextLength
        embeddingLength = configuration?.embeddingLength
        let counts = configuration?.parameters ?? ParameterCounts.unconfigured(file: file)
        moeLayers = counts.moeLayers
        experts = configuration?.expertCount ?? 0
        expertsUsed = configuration?.expertsPerToken ?? 0
        sharedExperts = configuration?.sharedExpertCount ?? 0
        tokenizer = Tokenizer(
            model: try metadata.optionalString("tokenizer.ggml.model"),
            pre: try metadata.optionalString("tokenizer.ggml.pre"),
            vocabularySize: try configuration?.vocabularySize
                ?? metadata.optionalArray("tokenizer.ggml.tokens")?.count)
        parameters = Parameters(
            total: counts.total, totalBytes: counts.totalBytes, embedding: counts.embedding,
            alwaysOn: counts.alwaysOn, routed: counts.routed, shared: counts.shared,
            active: counts.active,
            activeBytes: counts.activeBytes, perExpert: counts.routedExpertParameters,
            perExpertBytes: counts.routedExpertBytes)
        if includeTensors {
            tensors = file.tensors.map {
                Tensor(
                    name: $0.name, type: $0.type.name, shape: $0.shape, elements: $0.elementCount,
                    infoOffset: $0.infoOffset, start: $0.fileOffset,
                    end: $0.fileOffset + $0.byteCount)
            }
        }
    }

    /// The report for people: one fact per line, a label column, then the tensor list.
    func text() -> String {
        var lines: [(String, String)] = []
        func line(_ label: String, _ value: String) { lines.append((label, value)) }

        line("file", file)
        line(
            "format",
            "GGUF v\(version), \(formatBytes(fileSize)) (\(fileSize) bytes), alignment \(alignment), "
                + "\(metadataKeys) metadata keys, tensor data from byte \(dataOffset)")
        line("architecture", architecture ?? "(none)")
        if let name { line("name", name) }
        if isModel, let layers {
            line("layers", "\(layers)")
            if moeLayers.isEmpty {
                line("MoE layers", "none (dense model)")
            } else {
                line(
                    "MoE layers",
                    "\(moeLayers.count) of \(layers) (blocks \(formatRanges(moeLayers)))")
                line("experts", "\(experts) per MoE layer")
                line("experts used", "\(expertsUsed) per token (top-\(expertsUsed))")
                line(
                    "shared experts", sharedExperts == 0 ? "none" : "\(sharedExperts) per MoE layer"
                )
            }
            line("context length", contextLength.map { "\($0) tokens" } ?? "(not stored)")
            if let embeddingLength { line("embedding", "\(embeddingLength)") }
        } else {
            line(
                "model",
                "none: no general.architecture, block_count or tensors, so not a model file")
        }
        let vocabulary = tokenizer.vocabularySize.map { "\($0) tokens" } ?? "no vocabulary"
        let kind = tokenizer.model.map { model in
            tokenizer.pre.map { "\(model) (pre-tokenizer \($0))" } ?? model
        }
        line("tokenizer", "\(kind ?? "(none)"), \(vocabulary)")
        let histogram = tensorTypes.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        line(
            "tensor types",
            histogram.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                + " (\(tensorCount) tensors)")
        line(
            "parameters",
            "\(formatCount(parameters.total)) total (\(parameters.total)), \(formatBytes(parameters.totalBytes)) stored"
        )
        if !moeLayers.isEmpty {
            let share =
                parameters.total > 0
                ? 100 * Double(parameters.active) / Double(parameters.total) : 0
            line(
                "active",
                "\(formatCount(parameters.active)) per token as configured (\(parameters.active), "
                    + String(format: "%.1f %%", share)
                    + ", \(formatBytes(parameters.activeBytes)) of weights)")
            line(
                "",
                "always-on \(formatCount(parameters.alwaysOn)) (shared experts \(formatCount(parameters.shared)), "
                    + "embedding \(formatCount(parameters.embedding))), routed experts \(formatCount(parameters.routed))"
            )
            let perExpert =
                Set(parameters.perExpert).count == 1
                ? formatCount(parameters.perExpert[0]) : "\(parameters.perExpert)"
            // layers stored in mixed types (Q4_K_M) give a range of sizes
            let perExpertBytes =
                Set(parameters.perExpertBytes).count == 1
                ? formatBytes(parameters.perExpertBytes[0])
                : formatBytes(parameters.perExpertBytes.min()!) + " to "
                    + formatBytes(parameters.perExpertBytes.max()!)
            line("", "one routed expert: \(perExpert) parameters, \(perExpertBytes) per MoE layer")
        }

        let width = lines.map(\.0.count).max() ?? 0
        var out =
            lines.map { $0.0.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.1 }
            .joined(separator: "\n") + "\n"
        if let tensors {
            out += "\n" + tensorTable(tensors)
        }
        return out
    }

    /// One row per tensor: index, name, type, shape in ggml order, bytes, [start, end).
    private func tensorTable(_ tensors: [Tensor]) -> String {
        let nameWidth = max(4, tensors.map(\.name.count).max() ?? 0)
        let shapes = tensors.map { $0.shape.map(String.init).joined(separator: " x ") }
        let shapeWidth = max(5, shapes.map(\.count).max() ?? 0)
        let indexWidth = max(1, String(tensors.count).count)
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, width - text.count))
            return right ? fill + text : text + fill
        }
        var out =
            pad("#", indexWidth, right: true) + "  " + pad("name", nameWidth) + "  "
            + pad("type", 7)
            + pad("shape (ne)", shapeWidth + 2) + pad("bytes", 12, right: true) + "  range\n"
        for (index, tensor) in tensors.enumerated() {
            out +=
                pad(String(index + 1), indexWidth, right: true) + "  " + pad(tensor.name, nameWidth)
                + "  "
                + pad(tensor.type, 7) + pad(shapes[index], shapeWidth + 2)
                + pad(String(tensor.end - tensor.start), 12, right: true)
                + "  [\(tensor.start), \(tensor.end))\n"
        }
        return out
    }
}

/// 1234567 -> "1.23 M".
func formatCount(_ count: Int) -> String {
    let units: [(Double, String)] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")]
    for (scale, unit) in units where Double(count) >= scale {
        return String(format: "%.2f ", Double(count) / scale) + unit
    }
    return "\(count)"
}

/// 1536 -> "1.5 KiB".
func formatBytes(_ bytes: Int) -> String {
    let units: [(Double, String)] = [
        (0x1p40, "TiB"), (0x1p30, "GiB"), (0x1p20, "MiB"), (0x1p10, "KiB"),
    ]
    for (scale, unit) in units where Double(bytes) >= scale {
        return String(format: "%.1f ", Double(bytes) / scale) + unit
    }
    return "\(bytes) B"
}

/// [1, 2, 3, 5] -> "1-3, 5".
func formatRanges(_ values: [Int]) -> String {
    var parts: [String] = []
    var index = 0
    while index < values.count {
        var end = index
        while end + 1 < values.count, values[end + 1] == values[end] + 1 { end += 1 }
        parts.append(end == index ? "\(values[index])" : "\(values[index])-\(values[end])")
        index = end + 1
    }
    return parts.joined(separator: ", ")
}
