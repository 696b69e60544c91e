import Foundation
import MoEAudit

let auditUsage = """
    usage: moetop audit [-m MODEL] [--prompts DIR] [--quick] [--threads N]
                        [--json F] [--markdown F] [--html F] [--set NAME=VALUE ...]

    Runs the expert-collapse stress test (DESIGN.md) on a model and gives each check a verdict:
      1 routing distribution   top-3 share per layer, entropy, Gini, Jain, dead and rare experts
      2 coverage by domain     domain profiles, divergence, specialists, collapse per domain and
                               with each domain's prompts run as one batch
      3 boundary cases         boundary prompts against their parent domains; rewording pairs
      4 performance variance   mean log-likelihood per prompt, within and across domains, outliers
      5 stability              a fixed set of 100 prompts rerun between other prompts at other
                               thread counts; routing must be identical; fragile decisions counted

    options:
      -m, --model FILE     GGUF model (default: the embedded moetop-tiny)
      --prompts DIR        folder of *.jsonl prompt files (default: the shipped SamplePrompts)
      --quick              a small subset with the same checks (for CI)
      --threads N          threads of the first run of every prompt (default: all cores)
      --json F             write the report as JSON ('-' for stdout)
      --markdown F         write the report as Markdown ('-' for stdout)
      --html F             write the report as HTML with heatmap pictures ('-' for stdout)
      --set NAME=VALUE     change a threshold (repeatable); the names and defaults are below

    Prints one line per check to stdout (unless a report goes to stdout) and a progress bar to
    stderr. Exit status: 0 when no check fails (warnings allowed), 1 when any check fails or
    the audit cannot run, 2 on misuse.

    thresholds:
    \(AuditThresholds().all.map { "  " + $0.name.padding(toLength: 26, withPad: " ", startingAt: 0) + " " + MarkdownReport.number($0.defaultValue) }.joined(separator: "\n"))
    """

/// `moetop audit`.
func runAudit(_ arguments: [String]) throws -> Int32 {
    let args = try Arguments(
        command: "audit", arguments,
        options: ["--model", "--prompts", "--threads", "--json", "--markdown", "--html", "--set"],
        flags: ["--quick", "--help"], aliases: ["-m": "--model", "-h": "--help"])
    if args.flag("--help") {
        print(auditUsage)
        return 0
    }
    try args.expectPositional(atMost: 0)

    // thresholds, threads, outputs
    var thresholds = AuditThresholds()
    for assignment in args.strings("--set") {
        do { try thresholds.apply(assignment) } catch let error as ThresholdError {
            throw UsageError("audit: --set: \(error)")
        }
    }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let threads = try args.int("--threads", default: cores, in: 1...1024)
    let outputs = ["--json", "--markdown", "--html"].compactMap { name in
        args.string(name).map { (name, $0) }
    }
    guard outputs.filter({ $0.1 == "-" }).count <= 1 else {
        throw UsageError("audit: only one report can go to stdout ('-')")
    }

    // prompts
    let promptDirectory: URL
    if let given = args.string("--prompts") {
        promptDirectory = URL(fileURLWithPath: given)
    } else if let shipped = dataDirectory("SamplePrompts") {
        promptDirectory = shipped
    } else {
        throw UsageError(
            "audit: the shipped SamplePrompts folder was not found; give --prompts DIR")
    }
    let prompts = try PromptSet(directory: promptDirectory)
    let plan = AuditPlan(prompts: prompts, quick: args.flag("--quick"), threads: threads)

    // the model
    let url = try modelURL(args.string("--model"))
    let subject = try EngineSubject(url: url)
    printError(
        "audit: \(subject.model.name), \(plan.prompts.count) prompts in \(plan.domains.count) "
            + "domains\(plan.quick ? " (quick)" : ""), \(threads) threads")

    // run, then judge
    let bar = ProgressBar()
    let data = try AuditCollector.collect(subject: subject, plan: plan) { bar.update($0) }
    bar.finish()
    let report = AuditAnalysis.report(
        data: data, thresholds: thresholds, promptDirectory: promptDirectory.path)

    // reports
    for (name, path) in outputs {
        let bytes: Data
        switch name {
        case "--json": bytes = try report.json() + Data("\n".utf8)
        case "--markdown": bytes = Data(MarkdownReport.render(report).utf8)
        default: bytes = Data(HTMLReport.render(report).utf8)
        }
        if path == "-" {
            try writeStandardOutput(bytes)
        } else {
            do { try bytes.write(to: URL(fileURLWithPath: path)) } catch {
                throw AuditOutputError(path: path, reason: "\(error)")
            }
        }
    }
    if !outputs.contains(where: { $0.1 == "-" }) {
        for check in report.checks {
            print(
                "\(check.verdict.label.padding(toLength: 4, withPad: " ", startingAt: 0))  "
                    + "\(check.step) \(check.id): \(check.summary)")
        }
    }
    printError("audit: \(report.headline)")
    return report.exitStatus
}

/// A report file that could not be written.
struct AuditOutputError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "audit: cannot write \(path): \(reason)" }
}
