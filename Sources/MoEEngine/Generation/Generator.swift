import Foundation
import MoEGGUF
import MoERouting
import MoETokenizer
import Synchronization

/// What a generation run does besides sampling.
public struct GenerationOptions: Sendable {
    /// Most tokens to generate after the prompt.
    public var maxTokens: Int = 128
    /// How tokens are chosen.
    public var sampler: SamplerSettings = SamplerSettings()
    /// Generation ends when the generated text contains one of these; the text is cut before it.
    public var stopStrings: [String] = []
    /// Whether an end-of-generation token (EOS, EOT ...) ends the run.
    public var stopsAtEndOfGeneration = true
    /// Whether every step carries its routing records (off: nothing is copied).
    public var capturesRouting = true

    public init(
        maxTokens: Int = 128, sampler: SamplerSettings = SamplerSettings(),
        stopStrings: [String] = [], stopsAtEndOfGeneration: Bool = true,
        capturesRouting: Bool = true
    ) {
        self.maxTokens = maxTokens
        self.sampler = sampler
        self.stopStrings = stopStrings
        self.stopsAtEndOfGeneration = stopsAtEndOfGeneration
        self.capturesRouting = capturesRouting
    }
}

/// Why a run ended.
public enum StopReason: String, Sendable {
    /// The model produced an end-of-generation token (it is the last step).
    case endOfGeneration
    /// `maxTokens` tokens were generated.
    case tokenLimit
    /// The generated text reached a stop string.
    case stopString
    /// The session's context is full.
    case contextFull
    /// `Generator.requestStop()` was called.
    case stopRequested
}

/// Prefill and decode speed of a run, as values.
public struct Throughput: Sendable, Equatable {
    /// Prompt tokens and the seconds their batched forward pass took.
    public var promptTokens = 0
    public var promptSeconds = 0.0
    /// Generated tokens, and the seconds of their forward passes and sampling. The first decode
    /// step is left out of `decodeSeconds` and `timedDecodeTokens` (it warms caches up).
    public var generatedTokens = 0
    public var timedDecodeTokens = 0
    public var decodeSeconds = 0.0

    /// Prompt tokens per second (0 before the prefill).
    public var prefillTokensPerSecond: Double {
        promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0
    }

    /// Generated tokens per second, the first step excluded (0 until two steps have run).
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(timedDecodeTokens) / decodeSeconds : 0
    }
}

/// Generation over a loaded model: load once, tokenize, then iterate `TokenStep`s (the prompt's
/// tokens with phase `.prefill`, then one `.decode` step per generated token, each with the
/// routing of every MoE layer).
///
/// ```swift
/// let generator = try Generator(url: modelURL, threads: 2)
/// let run = try generator.generate(prompt: generator.tokenize("Hello"), options: options)
/// for step in run { print(step.piece, terminator: "") }
/// print(run.stopReason!, run.throughput.decodeTokensPerSecond)
/// ```
///
/// One thread drives a generator (its forward passes use the kernels' thread pool inside);
/// `requestStop()` may be called from any thread and ends the current run after its next step.
public final class Generator: @unchecked Sendable {
    /// The model.
    public let model: Model
    /// The model's tokenizer.
    public let tokenizer: Tokenizer
    /// The sequence state; `generate` resets it.
    public let session: InferenceSession
    private let stopFlag = Atomic<Bool>(false)

    /// Loads the model and tokenizer stored in the GGUF file at `url`.
    /// - Parameters:
    ///   - contextLength: positions to allow (nil: the model's, capped at 4096).
    ///   - threads: kernel threads; results do not depend on it.
    public convenience init(url: URL, contextLength: Int? = nil, threads: Int = 1) throws {
        let model = try Model(url: url)
        try self.init(
            model: model, tokenizer: Tokenizer(gguf: model.file), contextLength: contextLength,
            threads: threads)
    }

    /// A generator over an already loaded model and tokenizer.
    public init(model: Model, tokenizer: Tokenizer, contextLength: Int? = nil, threads: Int = 1)
        throws
    {
        self.model = model
        self.tokenizer = tokenizer
        session = try InferenceSession(model: model, contextLength: contextLength, threads: threads)
    }

    /// Token ids of `text`, with BOS when the model asks for it.
    public func tokenize(_ text: String) -> [Int32] {
        tokenizer.encode(text)
    }

    /// Asks the running generation to stop after its current step. Safe from any thread.
    public func requestStop() {
        stopFlag.store(true, ordering: .relaxed)
    }

    /// Starts a run: resets the session and runs the prompt through the model as one batch
    /// (throws for an empty prompt, a prompt longer than the context, an invalid setting or a
    /// token outside the vocabulary). The returned run yields the prompt's steps, then the
    /// generated ones.
    public func generate(prompt: [Int32], options: GenerationOptions) throws -> GenerationRun {
        try options.sampler.validate()
        guard options.maxTokens >= 0 else {
            throw EngineError.invalidSetting(
                name: "token limit", value: "\(options.maxTokens)", expected: "0 or more")
        }
        guard !prompt.isEmpty else { throw EngineError.emptyPrompt }
        guard prompt.count <= session.contextLength else {
            throw EngineError.promptTooLong(
                tokens: prompt.count, contextLength: session.contextLength)
        }
        stopFlag.store(false, ordering: .relaxed)
        session.reset()
        return try GenerationRun(generator: self, prompt: prompt, options: options)
    }

    var stopRequested: Bool { stopFlag.load(ordering: .relaxed) }
}

/// One generation: a sequence of `TokenStep`s. Iterate it once; read `stopReason` and
/// `throughput` during or after.
public final class GenerationRun: Sequence, IteratorProtocol {
    /// Why the run ended (nil while it runs).
    public private(set) var stopReason: StopReason?
    /// Speeds so far.
    public private(set) var throughput = Throughput()
    /// Every token so far, prompt first.
    public private(set) var tokens: [Int32]
    /// The generated text so far (what the steps' pieces add up to).
    public private(set) var text = ""

    private let generator: Generator
    private let options: GenerationOptions
    private var sampler: Sampler
    private var decoder: StreamingDecoder
    private var pendingPrompt: [TokenStep]
    private var logits: [Float]
    private var heldBack = ""  // generated text that may be the start of a stop string

    init(generator: Generator, prompt: [Int32], options: GenerationOptions) throws {
        self.generator = generator
        self.options = options
        sampler = Sampler(settings: options.sampler)
        decoder = generator.tokenizer.makeStreamingDecoder()
        tokens = prompt

        // batched prefill
        let start = DispatchTime.now()
        let evaluation = try generator.session.evaluate(
            prompt, logits: .last, captureRouting: options.capturesRouting)
        let seconds = Self.seconds(since: start)
        throughput.promptTokens = prompt.count
        throughput.promptSeconds = seconds
        logits = evaluation.logits

        // one step per prompt token, the batch time shared out
        var promptDecoder = generator.tokenizer.makeStreamingDecoder(renderSpecial: true)
        pendingPrompt = prompt.enumerated().map { position, token in
            var piece = promptDecoder.append(token)
            if position == prompt.count - 1 { piece += promptDecoder.finish() }
            return TokenStep(
                tokenID: token, piece: piece, position: position, phase: .prefill,
                records: evaluation.routing.isEmpty ? [] : evaluation.routing[position],
                timing: StepTiming(forward: seconds / Double(prompt.count)))
        }
        pendingPrompt.reverse()
    }

    /// The next step: a prompt token, else a newly generated one; nil when the run has ended.
    public func next() -> TokenStep? {
        if let step = pendingPrompt.popLast() { return step }
        guard stopReason == nil else { return nil }
        let session = generator.session

        // reasons to stop before sampling
        let generated = throughput.generatedTokens
        if generator.stopRequested {
            return finish(.stopRequested)
        }
        if generated >= options.maxTokens {
            return finish(.tokenLimit)
        }
        if session.position >= session.contextLength {
            return finish(.contextFull)
        }

        // sample
        let sampleStart = DispatchTime.now()
        let token = sampler.sample(logits, history: tokens)
        let sampling = Self.seconds(since: sampleStart)
        tokens.append(token)

        // run the token through the model: its routing, and the logits of the next one
        let endOfGeneration =
            options.stopsAtEndOfGeneration && generator.tokenizer.isEndOfGeneration(token)
        let last =
            endOfGeneration || generated + 1 >= options.maxTokens
            || session.position + 1 >= session.contextLength
        let forwardStart = DispatchTime.now()
        let position = session.position
        let evaluation: Evaluation
        do {
            evaluation = try session.evaluate(
                [token], logits: last ? .none : .last, captureRouting: options.capturesRouting)
        } catch {
            // the checks above leave nothing that can fail here
            preconditionFailure("decode step failed: \(error)")
        }
        let forward = Self.seconds(since: forwardStart)
        logits = evaluation.logits
        throughput.generatedTokens += 1
        if generated > 0 {
            throughput.timedDecodeTokens += 1
            throughput.decodeSeconds += forward + sampling
        }

        // text: hold back what could start a stop string, cut at a completed one
        var piece = heldBack + decoder.append(token)
        heldBack = ""
        var reason: StopReason?
        let full = text + piece
        if let range = firstStopString(in: full) {
            let emitted = full.index(full.startIndex, offsetBy: text.count)
            piece = range.lowerBound > emitted ? String(full[emitted..<range.lowerBound]) : ""
            reason = .stopString
        } else if last {
            piece += decoder.finish()
            reason = endOfGeneration ? .endOfGeneration : nil
        } else {
            let keep = stopPrefixLength(of: full)
            if keep > 0 {
                heldBack = String(piece.suffix(keep))
                piece.removeLast(keep)
            }
        }
        text += piece
        if let reason { stopReason = reason }

        return TokenStep(
            tokenID: token, piece: piece, position: position, phase: .decode,
            records: evaluation.routing.first ?? [],
            timing: StepTiming(forward: forward, sampling: sampling))
    }

    /// Ends the run; held-back text is released as the piece of no step (it is in `text`).
    private func finish(_ reason: StopReason) -> TokenStep? {
        text += heldBack + decoder.finish()
        heldBack = ""
        stopReason = reason
        return nil
    }

    /// The range of the earliest stop string in `text`, if any.
    private func firstStopString(in text: String) -> Range<String.Index>? {
        options.stopStrings.filter { !$0.isEmpty }.compactMap { text.range(of: $0) }
            .min { $0.lowerBound < $1.lowerBound }
    }

    /// The length of the longest suffix of `text` that is a proper prefix of a stop string.
    private func stopPrefixLength(of text: String) -> Int {
        var longest = 0
        for stop in options.stopStrings where stop.count > 1 {
            for length in stride(from: Swift.min(stop.count - 1, text.count), to: longest, by: -1)
            where text.hasSuffix(stop.prefix(length)) {
                longest = length
                break
            }
        }
        return longest
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
