@preconcurrency import CNCursesW
import Foundation

/// The screen could not start.
public enum TerminalError: Error, CustomStringConvertible {
    case notATerminal
    case cannotStart(term: String)

    public var description: String {
        switch self {
        case .notATerminal:
            return "the screen needs a terminal on stdin and stdout (for scripts: moetop generate)"
        case .cannotStart(let term):
            return "ncurses cannot start on TERM='\(term)' (try TERM=xterm-256color)"
        }
    }
}

/// Control sequences moetop writes itself, next to ncurses.
enum ControlSequence {
    static let escape = "\u{1B}["
    /// DEC private mode 2026: the terminal shows a frame only when it is complete (no tearing).
    static let beginSynchronized = escape + "?2026h"
    static let endSynchronized = escape + "?2026l"
    static let resetAttributes = escape + "0m"
    static func moveTo(x: Int, y: Int) -> String { escape + "\(y + 1);\(x + 1)H" }
}

/// ncurses attribute bits (curses.h: NCURSES_BITS(1, n) = 1 << (n + 8)); the macros do not
/// import into Swift.
enum CursesAttribute {
    static let underline = attr_t(1) << 17
    static let reverse = attr_t(1) << 18
    static let dim = attr_t(1) << 20
    static let bold = attr_t(1) << 21
}

/// ncurses mouse masks (curses.h, mouse version 2: button b, event e -> e << ((b - 1) * 5)).
enum CursesMouse {
    static let button1Pressed = mmask_t(0o2)
    static let button1Clicked = mmask_t(0o4)
    static let button4Pressed = mmask_t(0o2) << 15
    static let button5Pressed = mmask_t(0o2) << 20
}

/// Set by the signal handlers, read by the event loop, which then restores the terminal and
/// exits. A plain word: written once by a handler, read by one thread.
nonisolated(unsafe) var receivedSignal: Int32 = 0

/// The terminal, through ncursesw. Owned by the screen thread: ncurses is not thread-safe.
///
/// Frames are drawn by writing the cells that changed since the last frame; ncurses then
/// sends only what differs on the terminal. In the truecolor tier ncurses draws the 256-colour
/// approximation and moetop then repaints the changed coloured cells with 24-bit SGR escapes
/// (ncurses leaves attributes reset after each update), so tmux and terminals without a
/// direct-colour terminfo entry still get exact colours.
public final class Terminal {
    public let tier: ColorTier
    private var screen: OpaquePointer?
    private let window: UnsafeMutablePointer<WINDOW>
    private var previous: Frame?
    private var pairs: [Int: Int32] = [:]
    private let synchronized: Bool
    private var ended = false
    private var inputFile: UnsafeMutablePointer<FILE>?
    private var outputFile: UnsafeMutablePointer<FILE>?

    /// Starts the screen: locale, ncurses, raw keys, colours, mouse, signal handlers.
    /// `requested` is the tier the environment asks for; the terminal may offer less.
    public init(requested: ColorTier, mouse: Bool, environment: [String: String]) throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw TerminalError.notATerminal
        }
        setlocale(LC_ALL, "")
        let term = environment["TERM"] ?? "xterm"
        guard let input = fdopen(STDIN_FILENO, "r"), let output = fdopen(STDOUT_FILENO, "w"),
            let screen = newterm(nil, output, input)
        else { throw TerminalError.cannotStart(term: term) }
        self.screen = screen
        self.inputFile = input
        self.outputFile = output
        self.window = stdscr
        self.synchronized = environment["MOETOP_NO_SYNC"].map { $0.isEmpty } ?? true

        // keys: raw (Ctrl-C is a key), no echo, keypad decoding, short Esc delay
        raw()
        noecho()
        nonl()
        keypad(window, true)
        set_escdelay(25)
        curs_set(0)
        leaveok(window, false)

        // colours
        var tier = requested
        if tier != .none && has_colors() {
            start_color()
            use_default_colors()
            tier = tier.limited(toColorCount: Int(COLORS))
        } else {
            tier = .none
        }
        self.tier = tier

        if mouse {
            mousemask(
                CursesMouse.button1Pressed | CursesMouse.button1Clicked
                    | CursesMouse.button4Pressed | CursesMouse.button5Pressed, nil)
            mouseinterval(0)
        }
        Self.installSignalHandlers()
    }

    deinit { end() }

    /// Restores the terminal: cooked mode, cursor, main screen. Safe to call more than once.
    public func end() {
        guard !ended else { return }
        ended = true
        if synchronized { writeRaw(ControlSequence.endSynchronized) }
        curs_set(1)
        endwin()
        if let screen { delscreen(screen) }
        screen = nil
    }

    /// The size of the screen now.
    public var size: (width: Int, height: Int) {
        (Int(getmaxx(window)), Int(getmaxy(window)))
    }

    /// Forces the next draw to repaint everything (after a resize).
    public func invalidate() {
        previous = nil
        clearok(window, true)
    }

    /// Draws a frame: the cells that changed, then the cursor.
    public func draw(_ frame: Frame) {
        let full =
            previous == nil || previous!.width != frame.width || previous!.height != frame.height
        var changed: [Int] = []
        for index in frame.cells.indices where full || previous!.cells[index] != frame.cells[index]
        {
            changed.append(index)
        }
        let cursorMoved =
            previous.map { $0.cursor?.x != frame.cursor?.x || $0.cursor?.y != frame.cursor?.y }
            ?? true
        guard !changed.isEmpty || cursorMoved else { return }

        for index in changed {
            let cell = frame.cells[index]
            if cell.isContinuation { continue }
            var character = cchar_t()
            var text: [wchar_t] = [wchar_t(bitPattern: cell.scalar.value), 0]
            var pair = pairNumber(cell.style)
            setcchar(&character, &text, attributes(cell.style), 0, &pair)
            mvwadd_wch(window, Int32(index / frame.width), Int32(index % frame.width), &character)
        }
        if let cursor = frame.cursor {
            wmove(window, Int32(cursor.y), Int32(cursor.x))
            curs_set(1)
        } else {
            curs_set(0)
        }

        if synchronized { writeRaw(ControlSequence.beginSynchronized) }
        wnoutrefresh(window)
        doupdate()
        if tier == .truecolor { repaintTruecolor(frame, changed) }
        if synchronized { writeRaw(ControlSequence.endSynchronized) }
        previous = frame
    }

    /// Reads one key, waiting at most `timeout` milliseconds (negative: forever). Nil on timeout.
    public func readKey(timeout: Int32) -> Key? {
        wtimeout(window, timeout)
        var value: wint_t = 0
        let result = wget_wch(window, &value)
        if result == ERR { return nil }
        if result == KEY_CODE_YES { return decodeFunctionKey(Int32(value)) }
        return decodeCharacter(UInt32(value))
    }

    // MARK: - drawing details

    private func attributes(_ style: Style) -> attr_t {
        var bits: attr_t = 0
        if style.attributes.contains(.bold) { bits |= CursesAttribute.bold }
        if style.attributes.contains(.dim) { bits |= CursesAttribute.dim }
        if style.attributes.contains(.reverse) { bits |= CursesAttribute.reverse }
        if style.attributes.contains(.underline) { bits |= CursesAttribute.underline }
        return bits
    }

    /// The palette index for a colour in this tier; -1 is the terminal's default.
    private func paletteIndex(_ color: RGB?) -> Int32 {
        guard let color else { return -1 }
        switch tier {
        case .truecolor, .palette256: return Int32(PaletteQuantizer.index256(color))
        case .palette16:
            let index = PaletteQuantizer.index16(color)
            return Int32(COLORS >= 16 ? index : index % 8)
        case .none: return -1
        }
    }

    /// A colour pair for the style's colours, allocated once.
    private func pairNumber(_ style: Style) -> Int32 {
        guard tier != .none else { return 0 }
        let foreground = paletteIndex(style.foreground)
        let background = paletteIndex(style.background)
        if foreground < 0 && background < 0 { return 0 }
        let key = Int(foreground + 1) << 10 | Int(background + 1)
        if let pair = pairs[key] { return pair }
        let pair = alloc_pair(foreground, background)
        let result = pair < 0 ? 0 : pair
        pairs[key] = result
        return result
    }

    /// Repaints changed cells with 24-bit colour escapes, in runs of adjacent cells.
    private func repaintTruecolor(_ frame: Frame, _ changed: [Int]) {
        var out = ""
        var lastIndex = -2
        var lastStyle: Style?
        for index in changed {
            let cell = frame.cells[index]
            if cell.isContinuation { continue }
            if cell.style.foreground == nil && cell.style.background == nil { continue }
            if index != lastIndex + 1 || index % frame.width == 0 {
                out += ControlSequence.moveTo(x: index % frame.width, y: index / frame.width)
            }
            if cell.style != lastStyle {
                out += sgr(cell.style)
                lastStyle = cell.style
            }
            out.unicodeScalars.append(cell.scalar)
            lastIndex = index + (DisplayWidth.of(cell.scalar) == 2 ? 1 : 0)
            // the bottom-right cell would scroll some terminals: leave it to ncurses
            if index == frame.cells.count - 1 { break }
        }
        guard !out.isEmpty else { return }
        out += ControlSequence.resetAttributes
        let y = Int(getcury(curscr))
        let x = Int(getcurx(curscr))
        out += ControlSequence.moveTo(x: max(0, x), y: max(0, y))
        writeRaw(out)
    }

    /// SGR for a style in 24-bit colour.
    private func sgr(_ style: Style) -> String {
        var codes = ["0"]
        if style.attributes.contains(.bold) { codes.append("1") }
        if style.attributes.contains(.dim) { codes.append("2") }
        if style.attributes.contains(.underline) { codes.append("4") }
        if style.attributes.contains(.reverse) { codes.append("7") }
        if let f = style.foreground {
            codes.append("38;2;\(f.r);\(f.g);\(f.b)")
        } else {
            codes.append("39")
        }
        if let b = style.background {
            codes.append("48;2;\(b.r);\(b.g);\(b.b)")
        } else {
            codes.append("49")
        }
        return ControlSequence.escape + codes.joined(separator: ";") + "m"
    }

    /// Writes bytes to the terminal after flushing what ncurses buffered.
    private func writeRaw(_ text: String) {
        if let outputFile { fflush(outputFile) }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes {
                write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset)
            }
            if written <= 0 { break }
            offset += written
        }
        bytes.removeAll()
    }

    // MARK: - keys

    private func decodeFunctionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_BTAB: return .backTab
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_RESIZE:
            resizeToTerminal()
            return .resize
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            let x = Int(event.x)
            let y = Int(event.y)
            if event.bstate & CursesMouse.button4Pressed != 0 {
                return .mouse(x: x, y: y, button: .wheelUp)
            }
            if event.bstate & CursesMouse.button5Pressed != 0 {
                return .mouse(x: x, y: y, button: .wheelDown)
            }
            if event.bstate & (CursesMouse.button1Pressed | CursesMouse.button1Clicked) != 0 {
                return .mouse(x: x, y: y, button: .left)
            }
            return nil
        default:
            // KEY_F(n) = KEY_F0 + n
            if code > KEY_F0 && code <= KEY_F0 + 12 { return .function(Int(code - KEY_F0)) }
            return nil
        }
    }

    /// Control bytes by name.
    private enum Byte {
        static let tab: UInt32 = 0x09
        static let lineFeed: UInt32 = 0x0A
        static let carriageReturn: UInt32 = 0x0D
        static let escape: UInt32 = 0x1B
        static let delete: UInt32 = 0x7F
        static let backspace: UInt32 = 0x08
    }

    private func decodeCharacter(_ value: UInt32) -> Key? {
        switch value {
        case Byte.tab: return .tab
        case Byte.lineFeed, Byte.carriageReturn: return .enter
        case Byte.escape: return .escape
        case Byte.delete, Byte.backspace: return .backspace
        case 0x01...0x1A:
            // Ctrl-A ... Ctrl-Z
            return .control(Character(Unicode.Scalar(value + 0x60)!))
        default:
            guard let scalar = Unicode.Scalar(value), value >= 0x20 else { return nil }
            return .character(Character(scalar))
        }
    }

    /// After SIGWINCH ncurses has resized its idea of the screen; make sure it matches the
    /// terminal's size from the kernel (some multiplexers send the signal before the change).
    private func resizeToTerminal() {
        _ = followTerminalSize()
        invalidate()
    }

    /// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 set `receivedSignal`; the loop
    /// restores the terminal and exits. (In raw mode Ctrl-C is a key, so SIGINT only comes from
    /// `kill`; SIGQUIT would otherwise start the Swift runtime's crash backtrace over the
    /// screen.) SIGPIPE is ignored: a closed pipe is a write error, not a raw terminal.
    /// The signals are also unblocked, with SIGWINCH: a parent can start moetop with them
    /// blocked (test runners, some job control), and then resizes and SIGTERM would never arrive.
    private static func installSignalHandlers() {
        let stopping = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2]
        for number in stopping {
            signal(number) { receivedSignal = $0 }
        }
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        for number in stopping + [SIGWINCH] { sigaddset(&set, number) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Checks the terminal's size with the kernel and resizes ncurses when it differs: a
    /// resize whose SIGWINCH was lost still reaches the screen. Returns whether it resized.
    public func followTerminalSize() -> Bool {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0
        else { return false }
        guard Int32(size.ws_row) != getmaxy(window) || Int32(size.ws_col) != getmaxx(window)
        else { return false }
        resizeterm(Int32(size.ws_row), Int32(size.ws_col))
        invalidate()
        return true
    }
}
