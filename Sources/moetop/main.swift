import Foundation

/// The version `moetop --version` prints.
let moetopVersion = "0.1.0"

/// A subcommand: its name, a one-line summary for `moetop --help`, and its entry point.
struct Command {
    let name: String
    let summary: String
    let run: ([String]) throws -> Int32
}

let commands: [Command] = [
    Command(
        name: "info", summary: "architecture, tensor types, total and active parameters",
        run: runInfo),
    Command(
        name: "tokenize", summary: "text to token ids with the model's tokenizer", run: runTokenize),
    Command(
        name: "generate", summary: "headless generation: text to stdout, routing to a trace",
        run: runGenerate),
    Command(
        name: "bench", summary: "prefill and decode throughput, capture overhead", run: runBench),
    Command(
        name: "synth", summary: "write a random-weight model of any size and type", run: runSynth),
    Command(
        name: "params", summary: "what-if calculator for total and active parameters",
        run: runParams),
    Command(name: "replay", summary: "replay a routing trace on the screen", run: runReplay),
    Command(
        name: "demo", summary: "live demonstration: an attract loop over sample prompts",
        run: runDemo),
    Command(name: "trace", summary: "trace tools: stats, export, validate", run: runTrace),
    Command(name: "audit", summary: "the expert-collapse stress test", run: runAudit),
]

let topUsage = """
    moetop \(moetopVersion): watch a Mixture-of-Experts model route every token.

    usage: moetop [-m MODEL] [--prompt TEXT] [options]   interactive session
           moetop COMMAND [options]                      (moetop COMMAND --help for each)

    commands:
    \(commands.map { "  " + $0.name.padding(toLength: 10, withPad: " ", startingAt: 0) + $0.summary }.joined(separator: "\n"))

    With no model, moetop runs the embedded moetop-tiny model.
    --help, --version
    """

/// Runs the command line and returns the exit status: 0 success, 1 failure, 2 misuse.
@MainActor func runMain(_ arguments: [String]) -> Int32 {
    do {
        if let first = arguments.first {
            if first == "--version" || first == "-V" {
                print("moetop \(moetopVersion)")
                return 0
            }
            if first == "--help" || first == "-h" || first == "help" {
                print(topUsage + "\n\n" + sessionUsage)
                return 0
            }
            if let command = commands.first(where: { $0.name == first }) {
                return try command.run(Array(arguments.dropFirst()))
            }
        }
        return try runSession(arguments)
    } catch let error as UsageError {
        printError("moetop: \(error.description)")
        return 2
    } catch {
        printError("moetop: \(error)")
        return 1
    }
}

exit(runMain(Array(CommandLine.arguments.dropFirst())))
