import Foundation
import Testing

@testable import MoETUI

@Suite struct DocsTests {
    /// docs/screen.md (copied into the README) lists every key the help overlay lists.
    @Test func keyReferenceMatchesTheHelpScreen() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(
            contentsOf: root.appendingPathComponent("docs/screen.md"), encoding: .utf8)
        for entry in KeyHelp.entries {
            let row =
                "| `\(entry.keys)` | \(entry.action) | \(entry.scope.isEmpty ? "all" : entry.scope) |"
            #expect(text.contains(row), "missing from docs/screen.md: \(row)")
        }
    }
}
