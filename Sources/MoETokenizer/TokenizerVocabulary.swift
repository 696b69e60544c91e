// The tokenizer of a model as plain values: what a GGUF file's `tokenizer.ggml.*` keys hold.
// `Tokenizer(vocabulary:)` validates it and builds the lookup tables; `Tokenizer(gguf:)` fills it
// from a file.

/// What a token is, from `tokenizer.ggml.token_type` (llama.cpp's numbering).
public enum TokenType: Int32, Sendable, CaseIterable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6
}

/// A tokenizer's vocabulary and settings, as stored in GGUF metadata.
///
/// Optional fields mean "key absent": `Tokenizer` then applies llama.cpp's defaults for the
/// model kind (see `Tokenizer.init(vocabulary:)`).
public struct TokenizerVocabulary: Sendable, Equatable {
    /// `tokenizer.ggml.model`: `gpt2` (byte-level BPE) or `llama` (SentencePiece-style BPE).
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer of a `gpt2` vocabulary (nil when absent).
    public var pre: String?
    /// `tokenizer.ggml.tokens`: token text by id (byte-level alphabet for normal `gpt2` tokens).
    public var tokens: [String]
    /// `tokenizer.ggml.token_type`, one per token; empty means every token is normal.
    public var tokenTypes: [TokenType]
    /// `tokenizer.ggml.scores`, one per token (SentencePiece merge priority); may be empty.
    public var scores: [Float]
    /// `tokenizer.ggml.merges`: `"left right"`, index = rank (lower merges first).
    public var merges: [String]
    /// `tokenizer.ggml.bos_token_id` and the other special ids.
    public var bosID: Int32?
    public var eosID: Int32?
    public var unknownID: Int32?
    public var paddingID: Int32?
    public var eotID: Int32?
    public var eomID: Int32?
    /// `tokenizer.ggml.add_bos_token`, `add_eos_token`, `add_space_prefix`.
    public var addBOS: Bool?
    public var addEOS: Bool?
    public var addSpacePrefix: Bool?

    public init(
        model: String, pre: String? = nil, tokens: [String], tokenTypes: [TokenType] = [],
        scores: [Float] = [], merges: [String] = [], bosID: Int32? = nil, eosID: Int32? = nil,
        unknownID: Int32? = nil, paddingID: Int32? = nil, eotID: Int32? = nil,
        eomID: Int32? = nil, addBOS: Bool? = nil, addEOS: Bool? = nil,
        addSpacePrefix: Bool? = nil
    ) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.eotID = eotID
        self.eomID = eomID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
    }
}

/// A vocabulary the tokenizer cannot use, with the key and value at fault.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// A value this implementation does not handle (`tokenizer.ggml.pre = "tekken"`).
    case unsupported(key: String, value: String, supported: [String])
    /// A required key is absent.
    case missingKey(String)
    /// A value is malformed: `index` names the array element where one is at fault.
    case invalid(key: String, index: Int?, reason: String)
    /// One of the above, in the file at `path`.
    indirect case inFile(path: String, TokenizerError)

    public var description: String {
        switch self {
        case .unsupported(let key, let value, let supported):
            return "unsupported \(key) '\(value)' (supported: \(supported.joined(separator: ", ")))"
        case .missingKey(let key):
            return "missing tokenizer key \(key)"
        case .invalid(let key, let index, let reason):
            let place = index.map { "[\($0)]" } ?? ""
            return "invalid \(key)\(place): \(reason)"
        case .inFile(let path, let error):
            return "\(path): \(error.description)"
        }
    }
}
