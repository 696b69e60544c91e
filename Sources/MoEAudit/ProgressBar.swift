import Foundation

/// A progress bar with an estimate of the time left, for stderr.
///
/// On a terminal it redraws one line in place at most ten times a second; elsewhere (a log, a
/// pipe) it writes a plain line at each tenth of the work and at each phase change.
public final class ProgressBar: @unchecked Sendable {
    /// Guards every field below.
    private let lock = NSLock()
    private let handle: FileHandle
    private let interactive: Bool
    private let width: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var lastPhase = ""
    private var lastTenth = -1

    public init(handle: FileHandle = .standardError, interactive: Bool? = nil, width: Int = 30) {
        self.handle = handle
        self.interactive = interactive ?? (isatty(handle.fileDescriptor) == 1)
        self.width = width
    }

    /// The line for a state: `prompts [#####-----]  42%  1m05s left`.
    public static func line(_ p: AuditProgress, elapsed: Double, width: Int) -> String {
        let fraction = p.total > 0 ? min(1, Double(p.done) / Double(p.total)) : 0
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar =
            String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        var eta = "estimating"
        if fraction > 0.01, elapsed > 0.5 {
            eta = duration(elapsed / fraction - elapsed) + " left"
        }
        return String(
            format: "audit %@ [%@] %3d%%  %@",
            p.phase.padding(toLength: 9, withPad: " ", startingAt: 0),
            bar, Int(fraction * 100), eta)
    }

    /// `42s`, `3m05s`, `1h02m`.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }

    public func update(_ p: AuditProgress) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        let tenth = p.total > 0 ? p.done * 10 / p.total : 0
        if interactive {
            guard p.phase != lastPhase || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            write("\r" + Self.line(p, elapsed: elapsed, width: width) + "\u{1B}[K")
        } else {
            guard p.phase != lastPhase || tenth != lastTenth else { return }
            write(Self.line(p, elapsed: elapsed, width: width) + "\n")
        }
        lastDraw = now
        lastPhase = p.phase
        lastTenth = tenth
    }

    /// Ends the line on a terminal.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        if interactive { write("\n") }
    }

    private func write(_ text: String) {
        handle.write(Data(text.utf8))
    }
}
