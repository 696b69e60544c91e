import Foundation
import MoEEngine
import MoERouting
import MoETokenizer

/// A model loaded by MoEEngine, as the audit runs it: every text from an empty cache in one
/// batched forward pass with routing capture, and the log-likelihood from the same pass's
/// logits.
public final class EngineSubject: AuditSubject {
    public let engineModel: Model
    public let tokenizer: Tokenizer
    public let contextLength: Int
    /// One session per thread count, made when first asked for.
    private var sessions: [Int: InferenceSession] = [:]
    /// Special tokens the tokenizer puts before a text (a beginning-of-sequence token), if any.
    private let prefix: [Int32]

    /// Loads the model at `url` and its tokenizer. `contextLength` nil: the engine's default.
    public init(url: URL, contextLength: Int? = nil) throws {
        engineModel = try Model(url: url)
        tokenizer = try Tokenizer.load(from: engineModel.file)
        let probe = try InferenceSession(model: engineModel, contextLength: contextLength)
        self.contextLength = probe.contextLength
        prefix = Self.specialPrefix(tokenizer)
    }

    public var model: ModelDescription { engineModel.description }

    /// The tokens `encode(addSpecial: true)` puts before a text's own tokens.
    static func specialPrefix(_ tokenizer: Tokenizer) -> [Int32] {
        let plain = tokenizer.encode("a", addSpecial: false)
        let special = tokenizer.encode("a", addSpecial: true)
        guard !plain.isEmpty, special.count > plain.count else { return [] }
        for start in 0...(special.count - plain.count)
        where Array(special[start..<start + plain.count]) == plain {
            return Array(special[..<start])
        }
        return []
    }

    public func tokenCount(of text: String) throws -> Int {
        tokenizer.encode(text, addSpecial: false, parseSpecial: false).count
    }

    private func session(threads: Int) throws -> InferenceSession {
        if let session = sessions[threads] { return session }
        let session = try InferenceSession(
            model: engineModel, contextLength: contextLength, threads: threads)
        sessions[threads] = session
        return session
    }

    public func evaluate(prompt: String, reference: String?, threads: Int, scoring: Bool) throws
        -> PromptEvaluation
    {
        // tokens: the prompt's, then the reference's where prompt + reference tokenizes apart
        let promptIDs = tokenizer.encode(prompt, addSpecial: false, parseSpecial: false)
        var ids = promptIDs
        var promptCount = promptIDs.count
        if let reference {
            ids = tokenizer.encode(prompt + reference, addSpecial: false, parseSpecial: false)
            promptCount = zip(promptIDs, ids).prefix { $0 == $1 }.count
        }
        let input = prefix + ids
        guard !ids.isEmpty else {
            throw AuditSubjectError.emptyText(prompt)
        }

        // one batched pass from an empty cache
        let session = try session(threads: threads)
        session.reset()
        let result = try session.evaluate(
            input, logits: scoring ? .all : .none, captureRouting: true)

        // steps of the text's tokens (not the prefix)
        var steps: [TokenStep] = []
        steps.reserveCapacity(ids.count)
        for index in prefix.count..<input.count {
            steps.append(
                TokenStep(
                    tokenID: input[index], piece: tokenizer.readablePiece(input[index]),
                    position: index, phase: .prefill, records: result.routing[index]))
        }

        // log-likelihood: ln softmax(logits[j − 1])[input[j]] over the scored tokens
        var logLikelihood = 0.0
        var scored = 0
        if scoring {
            let vocabulary = result.logits.count / input.count
            let first = max(1, prefix.count + (reference == nil ? 0 : promptCount))
            for j in first..<input.count {
                let row = result.logits[(j - 1) * vocabulary..<j * vocabulary]
                let peak = row.max() ?? 0
                var sum = 0.0
                for value in row { sum += exp(Double(value - peak)) }
                logLikelihood += Double(row[row.startIndex + Int(input[j])] - peak) - log(sum)
                scored += 1
            }
        }
        return PromptEvaluation(
            steps: steps, promptTokenCount: promptCount, scoredTokenCount: scored,
            logLikelihood: logLikelihood)
    }
}

/// A text the engine cannot run for the audit.
public enum AuditSubjectError: Error, CustomStringConvertible {
    case emptyText(String)

    public var description: String {
        switch self {
        case .emptyText(let text): "the text \(text.debugDescription) has no tokens"
        }
    }
}
