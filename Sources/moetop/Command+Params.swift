import Foundation
import MoEEngine

let paramsUsage = """
    usage: moetop params --experts N --expert-params P --top-k K [--shared-params S]
                         [--dense-params D] [--layers L] [--json]

    What-if calculator: total and active parameters per token of a mixture-of-experts
    configuration. Counts accept K, M, B (or G) and T suffixes: 0.5T, 176.2M, 7B.

      --experts N         routed experts per MoE layer
      --expert-params P   parameters of one expert: in one layer when --layers is given,
                          else summed over all layers
      --top-k K           experts each token is routed to
      --shared-params S   always-on shared experts, all layers (default 0)
      --dense-params D    everything else that runs for every token: embeddings, attention,
                          norms, routers, output head (default 0)
      --layers L          MoE layers (default 1: P already covers them all)
      --json              the figures as one JSON object
      --help              this text

    total  = D + S + N x P x L
    active = D + S + K x P x L

    Example (Mixtral 8x7B): moetop params --experts 8 --expert-params 176160768 --layers 32
                            --top-k 2 --dense-params 1.606B    -> 46.7 B total, 12.9 B active
    """

/// `moetop params`.
func runParams(_ arguments: [String]) throws -> Int32 {
    if arguments.contains("--help") || arguments.contains("-h") {
        print(paramsUsage)
        return 0
    }
    let options = try Arguments(
        command: "params", arguments,
        options: [
            "--experts", "--expert-params", "--top-k", "--shared-params", "--dense-params",
            "--layers",
        ],
        flags: ["--json"])
    try options.expectPositional(atMost: 0)

    func count(_ name: String, required: Bool) throws -> Double {
        guard let text = options.string(name) else {
            if required {
                throw UsageError("params: \(name) is required (see moetop params --help)")
            }
            return 0
        }
        guard let value = ParameterCount.parse(text) else {
            throw UsageError(
                "params: \(name) expects a count such as 512, 176.2M, 7B or 0.5T, got '\(text)'")
        }
        return value
    }
    guard options.string("--experts") != nil, options.string("--top-k") != nil else {
        throw UsageError("params: --experts and --top-k are required (see moetop params --help)")
    }
    let experts = try options.int("--experts", default: 0, in: 1...1_000_000)
    let estimate: ParameterEstimate
    do {
        estimate = try ParameterEstimate(
            experts: experts,
            expertParameters: try count("--expert-params", required: true),
            topK: try options.int("--top-k", default: 0, in: 1...1_000_000),
            sharedParameters: try count("--shared-params", required: false),
            denseParameters: try count("--dense-params", required: false),
            layers: try options.int("--layers", default: 1, in: 1...100_000))
    } catch let error as EngineError {
        throw UsageError("params: \(error)")
    }

    if options.flag("--json") {
        struct Output: Encodable {
            var experts: Int
            var expertParameters: Double
            var topK: Int
            var sharedParameters: Double
            var denseParameters: Double
            var layers: Int
            var totalParameters: Double
            var activeParameters: Double
            var activeFraction: Double
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(
            Output(
                experts: estimate.experts, expertParameters: estimate.expertParameters,
                topK: estimate.topK, sharedParameters: estimate.sharedParameters,
                denseParameters: estimate.denseParameters, layers: estimate.layers,
                totalParameters: estimate.totalParameters,
                activeParameters: estimate.activeParameters,
                activeFraction: estimate.activeFraction))
        print(String(decoding: data, as: UTF8.self))
        return 0
    }

    let rows: [(String, String)] = [
        ("total", ParameterCount.format(estimate.totalParameters)),
        (
            "active/token",
            ParameterCount.format(estimate.activeParameters)
                + String(format: "  (%.1f %%)", 100 * estimate.activeFraction)
        ),
        ("routed experts", ParameterCount.format(estimate.routedParameters)),
        ("shared", ParameterCount.format(estimate.sharedParameters)),
        ("dense", ParameterCount.format(estimate.denseParameters)),
        ("experts", "\(estimate.experts), top-\(estimate.topK), \(estimate.layers) layer(s)"),
    ]
    for (label, value) in rows {
        print(label.padding(toLength: 16, withPad: " ", startingAt: 0) + value)
    }
    return 0
}
