/// The prompt line's editor: a line of text with a cursor, readline-style keys, and a
/// history of sent prompts browsed with Up and Down.
public struct LineEditor: Sendable, Equatable {
    public private(set) var characters: [Character] = []
    public private(set) var cursor = 0
    public private(set) var history: [String] = []
    /// Index into `history` while browsing; nil when editing a new line.
    private var browsing: Int?
    /// The unsent line, kept while browsing the history.
    private var draft: [Character] = []

    public init() {}

    public var text: String { String(characters) }

    /// What a key did to the line.
    public enum Outcome: Equatable, Sendable {
        /// The key edited or moved (or was ignored).
        case edited
        /// Enter: the line to send (already added to the history and cleared).
        case submitted(String)
        /// A key the editor does not use.
        case notHandled
    }

    /// Applies one key.
    public mutating func handle(_ key: Key) -> Outcome {
        switch key {
        case .character(let character):
            characters.insert(character, at: cursor)
            cursor += 1
        case .left: cursor = max(0, cursor - 1)
        case .right: cursor = min(characters.count, cursor + 1)
        case .home, .control("a"): cursor = 0
        case .end, .control("e"): cursor = characters.count
        case .backspace, .control("h"):
            if cursor > 0 {
                characters.remove(at: cursor - 1)
                cursor -= 1
            }
        case .delete, .control("d"):
            if cursor < characters.count { characters.remove(at: cursor) }
        case .control("u"):
            characters.removeFirst(cursor)
            cursor = 0
        case .control("k"):
            characters.removeLast(characters.count - cursor)
        case .control("w"):
            // delete the word before the cursor and the spaces after it
            var start = cursor
            while start > 0 && characters[start - 1] == " " { start -= 1 }
            while start > 0 && characters[start - 1] != " " { start -= 1 }
            characters.removeSubrange(start..<cursor)
            cursor = start
        case .up: browse(by: -1)
        case .down: browse(by: 1)
        case .enter:
            let line = text
            guard !line.allSatisfy({ $0 == " " || $0 == "\t" }) else { return .edited }
            if history.last != line { history.append(line) }
            characters = []
            cursor = 0
            browsing = nil
            return .submitted(line)
        default:
            return .notHandled
        }
        return .edited
    }

    /// Steps through the history: back (-1) or forward (+1); forward past the newest returns
    /// to the draft.
    private mutating func browse(by step: Int) {
        guard !history.isEmpty else { return }
        if browsing == nil {
            guard step < 0 else { return }
            draft = characters
            browsing = history.count
        }
        let next = browsing! + step
        if next < 0 { return }
        if next >= history.count {
            browsing = nil
            characters = draft
        } else {
            browsing = next
            characters = Array(history[next])
        }
        cursor = characters.count
    }
}
