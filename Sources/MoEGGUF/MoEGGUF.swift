// MoEGGUF: the GGUF container (reader and writer), ggml tensor types, quantisation and
// dequantisation. It depends on nothing but Foundation, so every other module can read files.
