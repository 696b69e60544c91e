import Foundation
import MoEGGUF

/// Where the committed fixtures live.
enum Fixtures {
    static let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    /// A fixture file's URL.
    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// A fixture file's path.
    static func path(_ relative: String) -> String { url(relative).path }

    /// A fixture file's bytes.
    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relative)))
    }

    /// A fixture file of little-endian 32-bit words.
    static func words(_ relative: String) throws -> [UInt32] {
        let raw = try bytes(relative)
        return stride(from: 0, to: raw.count, by: 4).map { i in
            UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3])
                << 24
        }
    }
}

/// A temporary file path, removed by the caller.
func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("moetop-gguf-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
        .path
}
