// Reading a tokenizer from a GGUF file's `tokenizer.ggml.*` metadata (reference digest §2.3).

import MoEGGUF

extension TokenizerVocabulary {
    /// The tokenizer keys of a GGUF file. Integer keys of any width are accepted; scores may be
    /// stored as FLOAT32 or as integers.
    public init(metadata: GGUFMetadata) throws {
        guard let model = try metadata.optionalString("tokenizer.ggml.model") else {
            throw TokenizerError.missingKey("tokenizer.ggml.model")
        }
        let tokens = try metadata.requiredStrings("tokenizer.ggml.tokens")

        // token types: llama.cpp's numbering 0...6
        var types: [TokenType] = []
        if let raw = try metadata.optionalInts("tokenizer.ggml.token_type") {
            types.reserveCapacity(raw.count)
            for (index, value) in raw.enumerated() {
                guard let type = Int32(exactly: value).flatMap(TokenType.init(rawValue:)) else {
                    throw TokenizerError.invalid(
                        key: "tokenizer.ggml.token_type", index: index,
                        reason: "expected a type 0...6, found \(value)")
                }
                types.append(type)
            }
        }

        // scores: FLOAT32, or integers in some converted files
        var scores: [Float] = []
        if let array = try metadata.optionalArray("tokenizer.ggml.scores") {
            if array.elementType.isInteger {
                scores = (try metadata.optionalInts("tokenizer.ggml.scores") ?? []).map(Float.init)
            } else {
                scores = try metadata.optionalFloats("tokenizer.ggml.scores") ?? []
            }
        }

        func id(_ key: String) throws -> Int32? {
            guard let value = try metadata.optionalInt(key) else { return nil }
            // out-of-range ids are ignored later, as llama.cpp does; keep the sign and size sane
            return Int32(exactly: value) ?? -1
        }
        self.init(
            model: model,
            pre: try metadata.optionalString("tokenizer.ggml.pre"),
            tokens: tokens,
            tokenTypes: types,
            scores: scores,
            merges: try metadata.optionalStrings("tokenizer.ggml.merges") ?? [],
            bosID: try id("tokenizer.ggml.bos_token_id"),
            eosID: try id("tokenizer.ggml.eos_token_id"),
            unknownID: try id("tokenizer.ggml.unknown_token_id"),
            paddingID: try id("tokenizer.ggml.padding_token_id"),
            eotID: try id("tokenizer.ggml.eot_token_id"),
            eomID: try id("tokenizer.ggml.eom_token_id"),
            addBOS: try metadata.optionalBool("tokenizer.ggml.add_bos_token"),
            addEOS: try metadata.optionalBool("tokenizer.ggml.add_eos_token"),
            addSpacePrefix: try metadata.optionalBool("tokenizer.ggml.add_space_prefix"))
    }
}

extension Tokenizer {
    /// The tokenizer stored in `file`.
    ///
    /// Throws `GGUFError` for a key of the wrong type, or `TokenizerError.inFile` naming the
    /// file for a vocabulary this tokenizer cannot use (an unknown `tokenizer.ggml.pre` ...).
    public convenience init(gguf file: GGUFFile) throws {
        do {
            try self.init(vocabulary: try TokenizerVocabulary(metadata: file.metadata))
        } catch let error as TokenizerError {
            throw TokenizerError.inFile(path: file.path, error)
        }
    }

    /// The tokenizer stored in `file`.
    public static func load(from file: GGUFFile) throws -> Tokenizer {
        try Tokenizer(gguf: file)
    }
}
