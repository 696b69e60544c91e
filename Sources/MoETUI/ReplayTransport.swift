import MoERouting

/// The replay transport: play, pause, step, speed and seek over a trace's tokens. Pure: the
/// clock is passed in, so the tests drive it with made-up times.
public struct ReplayTransport: Sendable, Equatable {
    /// The speeds `[` and `]` step through.
    public static let speeds: [Double] = [0.25, 0.5, 1, 2, 4, 8, 16, 32]
    /// Delay at 1x for a token whose trace carries no timing (imported traces), in seconds.
    public static let defaultDelay = 0.05
    /// Recorded delays are kept within these bounds at 1x, so a prefill batch does not flash
    /// past and a long pause does not stall the replay.
    public static let delayBounds = 0.005...1.0

    public private(set) var position = 0
    public let total: Int
    public private(set) var playing = false
    public private(set) var speedIndex = 2
    /// Digits typed for a seek.
    public private(set) var seekInput: String?
    /// When the next token is due while playing (seconds on the caller's clock).
    private var due: Double?

    public init(total: Int, position: Int = 0) {
        self.total = max(0, total)
        self.position = min(max(0, position), self.total)
    }

    public var speed: Double { Self.speeds[speedIndex] }

    /// How long a token waits at 1x: its recorded forward and sampling time, within bounds.
    public static func delay(seconds recorded: Double) -> Double {
        guard recorded > 0, recorded.isFinite else { return defaultDelay }
        return min(max(recorded, delayBounds.lowerBound), delayBounds.upperBound)
    }

    public mutating func togglePlay(now: Double) {
        if playing {
            playing = false
            due = nil
        } else {
            if position >= total { position = 0 }
            playing = true
            due = now
        }
    }

    public mutating func pause() {
        playing = false
        due = nil
    }

    public mutating func step(by count: Int) {
        pause()
        seek(to: position + count)
    }

    public mutating func seek(to target: Int) {
        position = min(max(0, target), total)
    }

    public mutating func faster() { speedIndex = min(Self.speeds.count - 1, speedIndex + 1) }
    public mutating func slower() { speedIndex = max(0, speedIndex - 1) }

    /// A digit typed for a seek.
    public mutating func typeDigit(_ digit: Character) {
        seekInput = (seekInput ?? "") + String(digit)
    }

    /// Enter after digits: seeks to that token count; Esc or a non-digit cancels.
    public mutating func commitSeek() {
        if let input = seekInput, let target = Int(input) { seek(to: target) }
        seekInput = nil
    }

    public mutating func cancelSeek() { seekInput = nil }

    /// Advances the position to `now` while playing; `delays(i)` is the 1x delay of token i.
    /// Returns whether the position moved. Stops at the end.
    public mutating func tick(now: Double, delays: (Int) -> Double) -> Bool {
        guard playing, var due else { return false }
        let start = position
        while position < total && now >= due {
            position += 1
            due += delays(min(position, total - 1)) / speed
        }
        // do not build a backlog after a long stall (the screen was suspended)
        if now - due > 1 { due = now }
        self.due = due
        if position >= total { pause() }
        return position != start
    }

    /// Seconds until the next token is due, for the screen's wait; nil when paused.
    public func timeUntilDue(now: Double) -> Double? {
        guard playing, let due else { return nil }
        return max(0, due - now)
    }
}
