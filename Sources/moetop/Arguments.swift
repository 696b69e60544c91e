import Foundation

/// A command-line mistake: printed as one line to stderr, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A parsed command line: options (`--name value`, `--name=value`, `-n value`), flags and
/// positional arguments. Every option a command reads is declared, so unknown ones are refused.
struct Arguments {
    private var values: [String: [String]] = [:]
    private var flags: Set<String> = []
    private(set) var positional: [String] = []
    let command: String
    /// Before each message: "generate: " for a subcommand, nothing for the interactive
    /// session (`command` "moetop"), whose errors main already starts with "moetop: ".
    private var prefix: String { command == "moetop" ? "" : "\(command): " }
    /// Where the usage is: "moetop generate --help", or "moetop --help".
    private var helpCommand: String {
        command == "moetop" ? "moetop --help" : "moetop \(command) --help"
    }

    /// Parses `arguments` for `command`. `options` take a value, `flags` do not; aliases map a
    /// short name to its long one (`["-n": "--tokens"]`).
    init(
        command: String, _ arguments: [String], options: Set<String>, flags: Set<String>,
        aliases: [String: String] = [:]
    ) throws {
        self.command = command
        var index = 0
        var onlyPositional = false
        while index < arguments.count {
            let raw = arguments[index]
            index += 1
            if onlyPositional || !raw.hasPrefix("-") || raw == "-" || Double(raw) != nil {
                positional.append(raw)
                continue
            }
            if raw == "--" {
                onlyPositional = true
                continue
            }
            var name = raw
            var inlineValue: String?
            if let equals = raw.firstIndex(of: "="), raw.hasPrefix("--") {
                name = String(raw[..<equals])
                inlineValue = String(raw[raw.index(after: equals)...])
            }
            name = aliases[name] ?? name
            if flags.contains(name) {
                guard inlineValue == nil else {
                    throw UsageError("\(prefix)\(name) takes no value")
                }
                self.flags.insert(name)
            } else if options.contains(name) {
                if let inlineValue {
                    values[name, default: []].append(inlineValue)
                } else {
                    guard index < arguments.count else {
                        throw UsageError("\(prefix)\(name) needs a value")
                    }
                    values[name, default: []].append(arguments[index])
                    index += 1
                }
            } else {
                throw UsageError("\(prefix)unknown option \(raw) (see \(helpCommand))")
            }
        }
    }

    /// Whether a flag was given.
    func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The last value given for an option, if any.
    func string(_ name: String) -> String? { values[name]?.last }

    /// Every value given for a repeatable option.
    func strings(_ name: String) -> [String] { values[name] ?? [] }

    /// An integer option, checked against a range.
    func int(_ name: String, default value: Int, in range: ClosedRange<Int> = Int.min...Int.max)
        throws -> Int
    {
        guard let text = string(name) else { return value }
        guard let parsed = Int(text), range.contains(parsed) else {
            throw UsageError(
                "\(prefix)\(name) expects an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'"
            )
        }
        return parsed
    }

    /// A floating-point option, checked against a range.
    func double(
        _ name: String, default value: Double,
        in range: ClosedRange<Double> = -Double.infinity...Double.infinity
    ) throws -> Double {
        guard let text = string(name) else { return value }
        guard let parsed = Double(text), parsed.isFinite, range.contains(parsed) else {
            throw UsageError(
                "\(prefix)\(name) expects a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'"
            )
        }
        return parsed
    }

    /// Refuses more positional arguments than a command takes.
    func expectPositional(atMost count: Int) throws {
        if positional.count > count {
            throw UsageError(
                "\(prefix)unexpected argument '\(positional[count])' (see \(helpCommand))"
            )
        }
    }
}
