/// Why the engine refused a model, a prompt or a setting. Every case names the file or value at
/// fault and what was expected.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// `general.architecture` names an architecture the engine does not run.
    case unsupportedArchitecture(file: String, found: String, supported: [String])
    /// A tensor the architecture needs is missing from the file.
    case missingTensor(file: String, name: String)
    /// A tensor has the wrong shape (ggml order, ne[0] first).
    case tensorShape(file: String, name: String, expected: [Int], found: [Int])
    /// A tensor is stored in a type the engine cannot compute with, or one it does not allow
    /// for this tensor (norms and biases must be F32 or F16).
    case tensorType(file: String, name: String, type: String, reason: String)
    /// A hyper-parameter is missing, out of range or inconsistent with the tensors.
    case hyperparameter(file: String, key: String, reason: String)
    /// A model feature the engine recognises but does not implement yet.
    case unsupportedFeature(file: String, feature: String)
    /// The prompt plus the tokens to generate do not fit in the context.
    case promptTooLong(tokens: Int, contextLength: Int)
    /// An empty prompt: there is nothing to condition on.
    case emptyPrompt
    /// A token id outside the vocabulary.
    case tokenOutOfRange(token: Int32, vocabularySize: Int)
    /// A sampling setting outside its range.
    case invalidSetting(name: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let file, let found, let supported):
            "\(file): architecture '\(found)' is not supported; supported: "
                + supported.joined(separator: ", ")
        case .missingTensor(let file, let name):
            "\(file): tensor '\(name)' is missing"
        case .tensorShape(let file, let name, let expected, let found):
            "\(file): tensor '\(name)' has shape \(found), expected \(expected)"
        case .tensorType(let file, let name, let type, let reason):
            "\(file): tensor '\(name)' has type \(type): \(reason)"
        case .hyperparameter(let file, let key, let reason):
            "\(file): \(key): \(reason)"
        case .unsupportedFeature(let file, let feature):
            "\(file): \(feature) is not supported yet"
        case .promptTooLong(let tokens, let contextLength):
            "the prompt needs \(tokens) positions but the context holds \(contextLength)"
        case .emptyPrompt:
            "the prompt is empty"
        case .tokenOutOfRange(let token, let vocabularySize):
            "token id \(token) is outside the vocabulary (0..<\(vocabularySize))"
        case .invalidSetting(let name, let value, let expected):
            "\(name) = \(value): expected \(expected)"
        }
    }
}
