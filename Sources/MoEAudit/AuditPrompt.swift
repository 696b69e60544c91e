import Foundation

/// One line of a prompt file (SamplePrompts/README.md describes the format).
public struct AuditPrompt: Sendable, Equatable, Codable {
    /// Unique over all files, e.g. `legal-001`.
    public var id: String
    /// One of the domains, or `boundary` for a prompt that sits between two domains.
    public var domain: String
    /// The text given to the model.
    public var text: String
    /// A continuation that joins `text` exactly; the quality score is computed on it.
    public var reference: String?
    /// `de`, `fr`, `es` ...; nil means English.
    public var language: String?
    /// The two parent domains of a boundary prompt.
    public var parents: [String]?
    /// The id of the rewording partner.
    public var pair: String?
    /// File name and 1-based line the prompt came from.
    public var file: String
    public var line: Int

    public init(
        id: String, domain: String, text: String, reference: String? = nil,
        language: String? = nil, parents: [String]? = nil, pair: String? = nil,
        file: String = "", line: Int = 0
    ) {
        self.id = id
        self.domain = domain
        self.text = text
        self.reference = reference
        self.language = language
        self.parents = parents
        self.pair = pair
        self.file = file
        self.line = line
    }

    /// Whether this prompt sits between two domains rather than in one.
    public var isBoundary: Bool { domain == PromptSet.boundaryDomain }
}

/// A prompt file that cannot be used, with the file, the line and what was expected.
public enum PromptFileError: Error, Equatable, CustomStringConvertible {
    case notADirectory(path: String)
    case noPromptFiles(directory: String)
    case unreadable(file: String, reason: String)
    case invalidLine(file: String, line: Int, reason: String)
    case missingField(file: String, line: Int, field: String)
    case wrongType(file: String, line: Int, field: String, expected: String)
    case duplicateID(id: String, file: String, line: Int, firstFile: String, firstLine: Int)
    case badBoundary(file: String, line: Int, found: String)
    case unknownParentDomain(id: String, file: String, line: Int, domain: String)
    case badPair(id: String, file: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .notADirectory(let path):
            return "\(path): not a directory of prompt files"
        case .noPromptFiles(let directory):
            return "\(directory): no *.jsonl prompt files"
        case .unreadable(let file, let reason):
            return "\(file): cannot read: \(reason)"
        case .invalidLine(let file, let line, let reason):
            return "\(file):\(line): expected one JSON object per line, \(reason)"
        case .missingField(let file, let line, let field):
            return "\(file):\(line): missing required field '\(field)'"
        case .wrongType(let file, let line, let field, let expected):
            return "\(file):\(line): field '\(field)' must be \(expected)"
        case .duplicateID(let id, let file, let line, let firstFile, let firstLine):
            return "\(file):\(line): id '\(id)' already used at \(firstFile):\(firstLine)"
        case .badBoundary(let file, let line, let found):
            return
                "\(file):\(line): a boundary prompt needs \"boundary\": [two different domains], found \(found)"
        case .unknownParentDomain(let id, let file, let line, let domain):
            return "\(file):\(line): boundary prompt '\(id)' names '\(domain)', which no prompt has"
        case .badPair(let id, let file, let line, let reason):
            return "\(file):\(line): rewording '\(id)': \(reason)"
        }
    }
}

/// Every prompt of a directory of JSON Lines files, in file-name order, then line order.
public struct PromptSet: Sendable, Equatable {
    /// The `domain` of prompts that sit between two domains.
    public static let boundaryDomain = "boundary"

    public private(set) var prompts: [AuditPrompt]

    /// Validates cross-references (unique ids, boundary parents, pairs linked both ways).
    public init(prompts: [AuditPrompt]) throws {
        self.prompts = prompts
        try validate()
    }

    /// Reads every `*.jsonl` in `directory`.
    public init(directory: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        else { throw PromptFileError.notADirectory(path: directory.path) }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasSuffix(".jsonl") }.sorted()
        } catch {
            throw PromptFileError.unreadable(file: directory.path, reason: "\(error)")
        }
        guard !names.isEmpty else { throw PromptFileError.noPromptFiles(directory: directory.path) }
        var prompts: [AuditPrompt] = []
        for name in names {
            let url = directory.appendingPathComponent(name)
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw PromptFileError.unreadable(file: url.path, reason: "\(error)")
            }
            prompts += try Self.parse(data, file: url.path)
        }
        try self.init(prompts: prompts)
    }

    /// Parses one file's bytes. Blank lines are skipped.
    public static func parse(_ data: Data, file: String) throws -> [AuditPrompt] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw PromptFileError.unreadable(file: file, reason: "not UTF-8")
        }
        var result: [AuditPrompt] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let line = index + 1
            guard !rawLine.allSatisfy(\.isWhitespace) else { continue }
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(rawLine.utf8))
            } catch {
                throw PromptFileError.invalidLine(
                    file: file, line: line, reason: "found text that is not JSON")
            }
            guard let fields = object as? [String: Any] else {
                throw PromptFileError.invalidLine(
                    file: file, line: line, reason: "found a JSON value that is not an object")
            }
            result.append(try prompt(from: fields, file: file, line: line))
        }
        return result
    }

    private static func prompt(from fields: [String: Any], file: String, line: Int) throws
        -> AuditPrompt
    {
        func required(_ name: String) throws -> String {
            guard let value = fields[name] else {
                throw PromptFileError.missingField(file: file, line: line, field: name)
            }
            guard let string = value as? String, !string.isEmpty else {
                throw PromptFileError.wrongType(
                    file: file, line: line, field: name, expected: "a non-empty string")
            }
            return string
        }
        func optional(_ name: String) throws -> String? {
            guard let value = fields[name] else { return nil }
            guard let string = value as? String else {
                throw PromptFileError.wrongType(
                    file: file, line: line, field: name, expected: "a string")
            }
            return string
        }

        let id = try required("id")
        let domain = try required("domain")
        var parents: [String]?
        if domain == boundaryDomain {
            guard let list = fields["boundary"] as? [String], list.count == 2, list[0] != list[1],
                !list.contains(boundaryDomain)
            else {
                let found = fields["boundary"].map(jsonText) ?? "nothing"
                throw PromptFileError.badBoundary(file: file, line: line, found: found)
            }
            parents = list
        }
        return AuditPrompt(
            id: id, domain: domain, text: try required("prompt"),
            reference: try optional("reference"), language: try optional("lang"),
            parents: parents, pair: try optional("pair"), file: file, line: line)
    }

    /// A parsed JSON value written back as compact JSON, for messages.
    private static func jsonText(_ value: Any) -> String {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]),
            let text = String(data: data, encoding: .utf8)
        else { return "\(value)" }
        return text
    }

    private func validate() throws {
        var first: [String: AuditPrompt] = [:]
        for prompt in prompts {
            if let earlier = first[prompt.id] {
                throw PromptFileError.duplicateID(
                    id: prompt.id, file: prompt.file, line: prompt.line, firstFile: earlier.file,
                    firstLine: earlier.line)
            }
            first[prompt.id] = prompt
        }
        let known = Set(domains)
        for prompt in prompts {
            for parent in prompt.parents ?? [] where !known.contains(parent) {
                throw PromptFileError.unknownParentDomain(
                    id: prompt.id, file: prompt.file, line: prompt.line, domain: parent)
            }
            guard let pair = prompt.pair else { continue }
            guard let partner = first[pair] else {
                throw PromptFileError.badPair(
                    id: prompt.id, file: prompt.file, line: prompt.line,
                    reason: "partner '\(pair)' not found")
            }
            guard partner.pair == prompt.id, partner.id != prompt.id else {
                throw PromptFileError.badPair(
                    id: prompt.id, file: prompt.file, line: prompt.line,
                    reason: "partner '\(pair)' does not point back")
            }
        }
    }

    /// The domains (every `domain` but `boundary`), sorted.
    public var domains: [String] {
        Set(prompts.map(\.domain)).subtracting([Self.boundaryDomain]).sorted()
    }

    /// A domain's prompts, in load order.
    public func prompts(in domain: String) -> [AuditPrompt] {
        prompts.filter { $0.domain == domain }
    }

    /// Prompts between two domains, in load order.
    public var boundaryPrompts: [AuditPrompt] { prompts.filter(\.isBoundary) }

    /// Rewording pairs, each once, ordered by the first member's position.
    public var pairs: [(AuditPrompt, AuditPrompt)] {
        let byID = Dictionary(prompts.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var seen: Set<String> = []
        var result: [(AuditPrompt, AuditPrompt)] = []
        for prompt in prompts {
            guard let pair = prompt.pair, let partner = byID[pair], !seen.contains(prompt.id)
            else { continue }
            seen.insert(prompt.id)
            seen.insert(partner.id)
            result.append((prompt, partner))
        }
        return result
    }
}
