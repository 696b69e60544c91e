/// A key press or terminal event, decoded from ncurses.
public enum Key: Equatable, Sendable {
    case character(Character)
    /// Ctrl plus a letter, lowercased ("c" for Ctrl-C). Tab, Enter and Backspace have their own.
    case control(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case tab, backTab, enter, escape, backspace, delete
    case function(Int)
    case mouse(x: Int, y: Int, button: MouseButton)
    case resize
}

/// The mouse buttons moetop reacts to.
public enum MouseButton: Sendable, Equatable {
    case left, wheelUp, wheelDown
}
