// MoETokenizer: tokenizers rebuilt from a GGUF file's `tokenizer.ggml.*` metadata.
//
// The whole public surface:
//   let tokenizer = try Tokenizer(gguf: file)            // or Tokenizer(vocabulary:)
//   tokenizer.encode(text, addSpecial: true)              // -> [Int32], BOS when the model asks
//   var decoder = tokenizer.makeStreamingDecoder()       // per generated token:
//   print(decoder.append(id), terminator: "")            //   valid UTF-8, held back if partial
//   tokenizer.isEndOfGeneration(id), .bosID, .eosID, .vocabularySize
//   tokenizer.decode(ids), tokenizer.readablePiece(id)
//
// Supported: byte-level BPE (`gpt2`) with the pre-tokenizers listed in
// `PreTokenizer.supportedNames`, and SentencePiece-style BPE (`llama`). Other model kinds and
// pre-tokenizer names are refused with `TokenizerError.unsupported`.
//
// Known differences from the reference libraries, kept on purpose (llama.cpp's behaviour):
// no Unicode normalisation; a SentencePiece space prefix after every special token (HF's
// non-legacy mode has none); added tokens have no lstrip/rstrip (GGUF does not store them).
