import Foundation
import MoERouting

/// Sampling settings for one turn of a live session.
public struct SessionSettings: Sendable, Equatable {
    /// Most tokens generated per turn.
    public var maxTokens: Int
    public var temperature: Double
    public var topP: Double
    public var topK: Int
    /// Seed for sampling; nil draws one.
    public var seed: UInt64?

    public init(
        maxTokens: Int = 256, temperature: Double = 0.8, topP: Double = 0.95, topK: Int = 40,
        seed: UInt64? = nil
    ) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.seed = seed
    }
}

/// The live engine as the screen sees it. MoETUI does not import MoEEngine: the executable
/// adapts the engine's generator to this.
public protocol SessionEngine: AnyObject, Sendable {
    /// The model being run.
    var model: ModelDescription { get }

    /// Runs one turn on the calling thread (the screen calls it on a thread of its own):
    /// prefills `prompt` after the conversation so far, then generates. Calls `emit` for every
    /// token, prompt tokens included, in order; checks `shouldStop` between tokens and
    /// returns early when it says so.
    func run(
        prompt: String, settings: SessionSettings, emit: (TokenStep) -> Void,
        shouldStop: () -> Bool) throws
}

/// Where a recording goes: the executable adapts MoERouting's trace writer to this.
public protocol TraceRecorder: AnyObject {
    /// The file being written.
    var path: String { get }
    func record(prompt: String) throws
    /// Writes and flushes one token.
    func record(_ step: TokenStep) throws
    func close() throws
}

/// Hands tokens from the engine thread to the screen thread. The engine only appends under
/// the lock and never waits for the screen; the screen takes everything at once.
final class StepInbox: @unchecked Sendable {
    private let lock = NSLock()
    private var steps: [TokenStep] = []
    private var finished: [Error?] = []
    private var stop = false

    func push(_ step: TokenStep) {
        lock.lock()
        steps.append(step)
        lock.unlock()
    }

    /// The turn ended (with its error, if any).
    func finish(_ error: Error?) {
        lock.lock()
        finished.append(error)
        lock.unlock()
    }

    /// Everything that arrived since the last call.
    func take() -> (steps: [TokenStep], finished: [Error?]) {
        lock.lock()
        defer { lock.unlock() }
        let result = (steps, finished)
        steps = []
        finished = []
        return result
    }

    var stopRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stop
    }

    func requestStop(_ value: Bool = true) {
        lock.lock()
        stop = value
        lock.unlock()
    }
}
