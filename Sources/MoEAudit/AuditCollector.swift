import Foundation
import MoERouting

/// What one prompt's first run gave.
public struct PromptRun: Sendable, Equatable {
    /// Routing of the prompt's own tokens (not of its reference).
    public var routing: RoutingCounts
    public var scoredTokens: Int
    /// Σ ln p over the scored tokens, nats.
    public var logLikelihood: Double

    public init(routing: RoutingCounts, scoredTokens: Int, logLikelihood: Double) {
        self.routing = routing
        self.scoredTokens = scoredTokens
        self.logLikelihood = logLikelihood
    }

    /// Mean log-likelihood per scored token; nil when nothing was scored.
    public var score: Double? {
        scoredTokens > 0 ? logLikelihood / Double(scoredTokens) : nil
    }
}

/// A domain's prompts run as one sequence (or a few, when they do not fit the context).
public struct BatchRun: Sendable, Equatable {
    public var routing: RoutingCounts
    /// Sequences the prompts were split into to fit the context.
    public var chunks: Int
    public var prompts: Int

    public init(routing: RoutingCounts, chunks: Int, prompts: Int) {
        self.routing = routing
        self.chunks = chunks
        self.prompts = prompts
    }
}

/// One more run of the stability set.
public struct StabilityRerun: Sendable, Equatable {
    public var threads: Int
    /// Prompt id → its routing in this run.
    public var sequences: [String: RoutingSequence]

    public init(threads: Int, sequences: [String: RoutingSequence]) {
        self.threads = threads
        self.sequences = sequences
    }
}

/// Everything the audit measured, before any verdict.
public struct AuditData: Sendable {
    public var model: ModelDescription
    public var plan: AuditPlan
    /// Prompt id → first run.
    public var runs: [String: PromptRun] = [:]
    /// Domain → its prompts as one batch.
    public var batches: [String: BatchRun] = [:]
    /// Stability prompt id → routing of its first run.
    public var stabilityBaseline: [String: RoutingSequence] = [:]
    public var reruns: [StabilityRerun] = []
    /// Wall seconds of each phase: `prompts`, `batches`, `stability`.
    public var seconds: [String: Double] = [:]

    public init(model: ModelDescription, plan: AuditPlan) {
        self.model = model
        self.plan = plan
    }
}

/// How far the audit has come, for a progress bar. Work is measured in characters of text run
/// through the model, a proxy for tokens that is known before anything runs.
public struct AuditProgress: Sendable {
    public var phase: String
    public var done: Int
    public var total: Int
}

/// A failure while running the audit, naming the prompt.
public struct AuditRunError: Error, CustomStringConvertible {
    public var promptID: String
    public var underlying: any Error

    public var description: String { "prompt \(promptID): \(underlying)" }
}

/// Runs the plan's texts through the subject and keeps what the analysis needs.
public enum AuditCollector {
    /// Separator between prompts of a domain batch.
    public static let batchSeparator = "\n\n"

    public static func collect(
        subject: any AuditSubject, plan: AuditPlan,
        progress: (AuditProgress) -> Void = { _ in }
    ) throws -> AuditData {
        var data = AuditData(model: subject.model, plan: plan)
        let stabilityIDs = Set(plan.stability.map(\.id))
        func size(_ prompt: AuditPrompt) -> Int {
            prompt.text.utf8.count + (prompt.reference?.utf8.count ?? 0)
        }
        let schedule = plan.rerunThreads.indices.map { rerunSchedule(plan: plan, rerun: $0) }
        let promptWork: Int = plan.prompts.map(size).reduce(0, +)
        let batchPrompts: [AuditPrompt] = plan.domains.flatMap { plan.domainPrompts[$0] ?? [] }
        let batchWork: Int = batchPrompts.map { $0.text.utf8.count }.reduce(0, +)
        var rerunWork = 0
        for (work, prompt) in schedule.joined() {
            rerunWork += size(prompt) + (work.map(size) ?? 0)
        }
        let total = promptWork + batchWork + rerunWork
        var done = 0
        func evaluate(_ prompt: AuditPrompt, threads: Int, scoring: Bool) throws
            -> PromptEvaluation
        {
            do {
                return try subject.evaluate(
                    prompt: prompt.text, reference: prompt.reference, threads: threads,
                    scoring: scoring)
            } catch {
                throw AuditRunError(promptID: prompt.id, underlying: error)
            }
        }

        // steps 1-4: every prompt once, at the baseline thread count
        var clock = ContinuousClock.now
        for prompt in plan.prompts {
            progress(AuditProgress(phase: "prompts", done: done, total: total))
            let evaluation = try evaluate(prompt, threads: plan.baselineThreads, scoring: true)
            let promptSteps = evaluation.steps.prefix(evaluation.promptTokenCount)
            data.runs[prompt.id] = PromptRun(
                routing: RoutingCounts(steps: promptSteps, model: subject.model),
                scoredTokens: evaluation.scoredTokenCount,
                logLikelihood: evaluation.logLikelihood)
            if stabilityIDs.contains(prompt.id) {
                data.stabilityBaseline[prompt.id] = RoutingSequence(steps: evaluation.steps[...])
            }
            done += size(prompt)
        }
        data.seconds["prompts"] = seconds(since: clock)

        // step 2: each domain's prompts as one sequence, split where the context ends
        clock = ContinuousClock.now
        let separatorTokens = try subject.tokenCount(of: batchSeparator)
        for domain in plan.domains {
            let prompts = plan.domainPrompts[domain] ?? []
            var chunks: [[AuditPrompt]] = [[]]
            var used = 0
            for prompt in prompts {
                let tokens = try subject.tokenCount(of: prompt.text) + separatorTokens
                // a margin of a few tokens: joined texts may tokenize a little differently
                if used + tokens > subject.contextLength - 8, !chunks[chunks.count - 1].isEmpty {
                    chunks.append([])
                    used = 0
                }
                chunks[chunks.count - 1].append(prompt)
                used += tokens
            }
            var routing = RoutingCounts(
                layers: subject.model.moeLayers.count, experts: subject.model.expertCount)
            for chunk in chunks where !chunk.isEmpty {
                progress(AuditProgress(phase: "batches", done: done, total: total))
                let text = chunk.map(\.text).joined(separator: batchSeparator)
                let evaluation: PromptEvaluation
                do {
                    evaluation = try subject.evaluate(
                        prompt: text, reference: nil, threads: plan.baselineThreads, scoring: false)
                } catch {
                    throw AuditRunError(promptID: "batch of \(domain)", underlying: error)
                }
                routing.add(RoutingCounts(steps: evaluation.steps[...], model: subject.model))
                done += chunk.map { $0.text.utf8.count }.reduce(0, +)
            }
            data.batches[domain] = BatchRun(
                routing: routing, chunks: chunks.count(where: { !$0.isEmpty }),
                prompts: prompts.count)
        }
        data.seconds["batches"] = seconds(since: clock)

        // step 5: the stability set again, other prompts in between, other thread counts
        clock = ContinuousClock.now
        for (index, threads) in plan.rerunThreads.enumerated() {
            var sequences: [String: RoutingSequence] = [:]
            for (work, prompt) in schedule[index] {
                progress(AuditProgress(phase: "stability", done: done, total: total))
                if let work {
                    _ = try evaluate(work, threads: threads, scoring: false)
                    done += size(work)
                }
                let evaluation = try evaluate(prompt, threads: threads, scoring: false)
                sequences[prompt.id] = RoutingSequence(steps: evaluation.steps[...])
                done += size(prompt)
            }
            data.reruns.append(StabilityRerun(threads: threads, sequences: sequences))
        }
        data.seconds["stability"] = seconds(since: clock)
        progress(AuditProgress(phase: "done", done: total, total: total))
        return data
    }

    /// The order of one rerun: the stability set, reversed on even reruns, each prompt preceded
    /// by one prompt from outside the set (cycled, with a different start per rerun).
    public static func rerunSchedule(plan: AuditPlan, rerun: Int) -> [(
        work: AuditPrompt?, prompt: AuditPrompt
    )] {
        let other = plan.otherWork
        let order = rerun % 2 == 0 ? Array(plan.stability.reversed()) : plan.stability
        return order.enumerated().map { position, prompt in
            (other.isEmpty ? nil : other[(position + rerun * 7) % other.count], prompt)
        }
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
