import Foundation
import Testing

/// Drives programs in a detached tmux session and reads the screen back with
/// `tmux capture-pane -p`: what a person at the terminal would see.
struct TmuxSession {
    let name: String
    /// The tmux server socket, private to the test so it cannot touch a user's sessions.
    let socket: String

    /// The moetop binary under test: `$MOETOP_BIN` (Scripts/test.sh sets it), else the debug or
    /// release build of this checkout. Nil when none exists.
    static func moetopBinary() -> String? {
        if let path = ProcessInfo.processInfo.environment["MOETOP_BIN"], !path.isEmpty,
            FileManager.default.isExecutableFile(atPath: path)
        {
            return path
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        for configuration in ["debug", "release"] {
            let path = root.appendingPathComponent(".build/\(configuration)/moetop").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// The tmux binary, or nil when it is not installed.
    static func tmuxBinary() -> String? {
        for path in ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        return nil
    }

    /// Starts `command` (run by sh) in a new session of `width` x `height`.
    init(command: String, width: Int, height: Int) throws {
        name = "moetop-test-\(UUID().uuidString.prefix(8))"
        socket = "moetop-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        // the server that new-session starts would hold a pipe open forever: no output here
        try tmux(
            ["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command],
            output: false)
        try tmux(["set-option", "-t", name, "window-size", "manual"])
    }

    /// Runs tmux on the test's server; returns its output when `output` is set.
    @discardableResult
    func tmux(_ arguments: [String], output: Bool = true) throws -> String {
        // output goes through a file, not a pipe: the tmux server that new-session forks would
        // keep a pipe open
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("moetop-tmux-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let status = try Self.spawnAndWait(
            [Self.tmuxBinary()!, "-L", socket] + arguments, output: output ? file : "/dev/null")
        guard output else { return "" }
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        if status != 0 && !arguments.contains("kill-server") {
            throw TmuxFailure(arguments: arguments, status: status, output: text)
        }
        return text
    }

    struct TmuxFailure: Error, CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var output: String
        var description: String { "tmux \(arguments) exited \(status): \(output)" }
    }

    /// posix_spawn and waitpid: Foundation's Process can miss a child's exit on Linux when the
    /// test runs off the main thread, and wait forever.
    static func spawnAndWait(_ argv: [String], output: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        // no blocked signals in the child: the test thread may block some, and tmux's panes
        // would inherit the mask
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, &cArguments, environ)
        guard result == 0 else {
            throw TmuxFailure(arguments: argv, status: result, output: "posix_spawn failed")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xFF
    }

    func sendKeys(_ keys: String...) throws { try tmux(["send-keys", "-t", name] + keys) }

    /// Types text literally (no key names).
    func type(_ text: String) throws { try tmux(["send-keys", "-t", name, "-l", text]) }

    func capture() throws -> String { try tmux(["capture-pane", "-t", name, "-p"]) }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// Captures until `condition` holds or `seconds` pass; returns the last capture.
    func waitFor(seconds: Double = 15, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var screen = try capture()
        while !condition(screen) && Date() < deadline {
            usleep(100_000)
            screen = try capture()
        }
        return screen
    }

    func kill() { _ = try? tmux(["kill-server"], output: false) }

    /// Resizes to 20x5 (the "terminal too small" notice), then back to `width` x `height`
    /// (the panes again).
    func expectSmallSizeNoticeAndRecovery(width: Int, height: Int) throws {
        try resize(width: 20, height: 5)
        var screen = try waitFor { $0.contains("too small") }
        #expect(screen.contains("terminal too small"), "screen:\n\(screen)")
        try resize(width: width, height: height)
        screen = try waitFor { $0.contains("Parameters") }
        #expect(screen.contains("Router") && screen.contains("Parameters"), "screen:\n\(screen)")
    }

    /// Presses q: the pane command (`paneCommand`) then shows exit status 0 and `stty -a` with
    /// the terminal in cooked mode (icanon, echo).
    func expectQuitRestoresTheTerminal() throws {
        try sendKeys("q")
        let screen = try waitFor { $0.contains("EXIT=") && $0.contains("icanon") }
        #expect(screen.contains("EXIT=0"), "screen:\n\(screen)")
        let modes = screen.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" })
        #expect(modes.contains("icanon") && !modes.contains("-icanon"), "screen:\n\(screen)")
        #expect(modes.contains("echo") && !modes.contains("-echo"), "screen:\n\(screen)")
    }
}
