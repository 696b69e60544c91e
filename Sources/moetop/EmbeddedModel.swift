import Foundation

/// The file name of the embedded default model.
let embeddedModelName = "moetop-tiny.gguf"

/// Where a command's model comes from: the path the user gave, or the embedded moetop-tiny.
///
/// The embedded model is looked up, in order, in `$MOETOP_MODEL`, in the resource bundle that
/// `swift build` puts beside the binary, and in `../share/moetop/` relative to the binary (where
/// `Scripts/install.sh` puts it).
func modelURL(_ given: String?) throws -> URL {
    if let given {
        return URL(fileURLWithPath: given)
    }
    if let fromEnvironment = ProcessInfo.processInfo.environment["MOETOP_MODEL"],
        !fromEnvironment.isEmpty
    {
        return URL(fileURLWithPath: fromEnvironment)
    }
    let directory = executableDirectory()
    let candidates = [
        directory.appendingPathComponent("moetop_moetop.resources/\(embeddedModelName)"),
        directory.appendingPathComponent("../share/moetop/\(embeddedModelName)").standardized,
    ]
    for candidate in candidates where FileManager.default.fileExists(atPath: candidate.path) {
        return candidate
    }
    throw EmbeddedModelMissing(searched: candidates.map(\.path))
}

/// No model was given and the embedded one is not where it should be.
struct EmbeddedModelMissing: Error, CustomStringConvertible {
    var searched: [String]
    var description: String {
        "no model given (-m FILE) and the embedded \(embeddedModelName) was not found in "
            + searched.joined(separator: ", ") + "; set MOETOP_MODEL or reinstall"
    }
}

/// A folder of shipped data (`Themes`, `SamplePrompts`), or nil when it cannot be found.
///
/// Looked up in `$MOETOP_DATA/NAME`, in `../share/moetop/NAME` relative to the binary (an
/// installed moetop), and in the source checkout the binary was built in (`swift run`, whose
/// binary lives in `.build/<config>/`).
func dataDirectory(_ name: String) -> URL? {
    var candidates: [URL] = []
    if let root = ProcessInfo.processInfo.environment["MOETOP_DATA"], !root.isEmpty {
        candidates.append(URL(fileURLWithPath: root).appendingPathComponent(name))
    }
    let directory = executableDirectory()
    candidates.append(directory.appendingPathComponent("../share/moetop/\(name)").standardized)
    var checkout = directory
    for _ in 0..<4 {
        checkout = checkout.deletingLastPathComponent()
        candidates.append(checkout.appendingPathComponent(name))
    }
    candidates.append(
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(name))
    var isDirectory: ObjCBool = false
    return candidates.first {
        FileManager.default.fileExists(atPath: $0.path, isDirectory: &isDirectory)
            && isDirectory.boolValue
    }
}

/// The folder of the running binary. `/proc/self/exe` first: `argv[0]` is only a bare name when
/// moetop was found through `PATH`.
func executableDirectory() -> URL {
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        return URL(fileURLWithPath: path).deletingLastPathComponent()
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent()
}
