// MoETokenizer: tokenizers rebuilt from a GGUF file's `tokenizer.ggml.*` metadata.
