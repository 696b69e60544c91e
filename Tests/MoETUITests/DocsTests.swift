import Foundation
import Testing

@testable import MoETUI

@Suite struct DocsTests {
    /// docs/screen.md and the README list every key the help overlay lists.
    @Test(arguments: ["docs/screen.md", "README.md"])
    func keyReferenceMatchesTheHelpScreen(document: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent(document), encoding: .utf8)
        for entry in KeyHelp.entries {
            let row =
                "| `\(entry.keys)` | \(entry.action) | \(entry.scope.isEmpty ? "all" : entry.scope) |"
            #expect(text.contains(row), "missing from \(document): \(row)")
        }
    }
}
