import Foundation
import MoEGGUF
import MoETokenizer

let tokenizeUsage = """
    usage: moetop tokenize [-m MODEL] [TEXT] [--file F] [--no-bos] [--pieces] [--no-special]

    Prints the token ids of TEXT (or of file F, or of standard input when neither is given)
    with the model's own tokenizer, read from the GGUF file.

      -m, --model MODEL  GGUF file (default: the embedded moetop-tiny)
      --file F           read the text from F (- for standard input)
      --no-bos           do not put the BOS token first even when the model asks for it
      --pieces           one line per token: id<TAB>piece (control characters escaped,
                         partial UTF-8 shown as <0xNN>)
      --no-special       treat the text of control tokens (<|im_start|> ...) as plain text
      --help             this text

    Output: one line of space-separated ids, with BOS when the model adds one.
    """

/// `moetop tokenize`.
func runTokenize(_ arguments: [String]) throws -> Int32 {
    if arguments.contains("--help") || arguments.contains("-h") {
        print(tokenizeUsage)
        return 0
    }
    let options = try Arguments(
        command: "tokenize", arguments, options: ["--model", "--file", "--bench-mb"],
        flags: ["--no-bos", "--pieces", "--no-special", "--bench"], aliases: ["-m": "--model"])
    try options.expectPositional(atMost: 1)

    // model
    let url = try modelURL(options.string("--model"))
    let file = try GGUFFile(url: url)
    let tokenizer = try Tokenizer(gguf: file)

    // the hidden benchmark: encoding speed on a megabyte of mixed text
    if options.flag("--bench") {
        let megabytes = try options.int("--bench-mb", default: 1, in: 1...64)
        return runTokenizerBenchmark(
            tokenizer, megabytes: megabytes, file: options.string("--file"))
    }

    // text
    let text: String
    if let path = options.string("--file") {
        if !options.positional.isEmpty {
            throw UsageError("tokenize: give TEXT or --file, not both")
        }
        // (a FileHandle, not FileManager.contents, so that pipes and /dev/stdin read fully)
        let handle = path == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: path)
        guard let handle else { throw TokenizeInputError(path: path, reason: "cannot open it") }
        text = String(decoding: try readToEnd(handle, path: path), as: UTF8.self)
    } else if let given = options.positional.first {
        text = given
    } else {
        text = String(
            decoding: try readToEnd(FileHandle.standardInput, path: "standard input"),
            as: UTF8.self)
    }

    // encode: BOS/EOS as the model asks, unless --no-bos
    var ids = tokenizer.encode(
        text, addSpecial: false, parseSpecial: !options.flag("--no-special"))
    if tokenizer.addsBOS && !options.flag("--no-bos"), let bos = tokenizer.bosID {
        ids.insert(bos, at: 0)
    }
    if tokenizer.addsEOS, let eos = tokenizer.eosID { ids.append(eos) }

    // print
    if options.flag("--pieces") {
        var lines = ""
        for id in ids { lines += "\(id)\t\(tokenizer.readablePiece(id))\n" }
        try writeStandardOutput(Data(lines.utf8))
    } else {
        try writeStandardOutput(Data((ids.map(String.init).joined(separator: " ") + "\n").utf8))
    }
    return 0
}

/// The text file of `--file` cannot be read.
struct TokenizeInputError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "tokenize: cannot read text file \(path): \(reason)" }
}

/// Most bytes `tokenize` reads: more is refused (an endless device such as /dev/zero).
let tokenizeInputLimit = 1 << 30

/// Everything `handle` holds, up to `tokenizeInputLimit` bytes; a directory or a read error
/// is a `TokenizeInputError`, not a crash.
func readToEnd(_ handle: FileHandle, path: String) throws -> Data {
    var data = Data()
    while true {
        let chunk: Data?
        do { chunk = try handle.read(upToCount: 1 << 20) } catch {
            throw TokenizeInputError(path: path, reason: String(cString: strerror(errno)))
        }
        guard let chunk, !chunk.isEmpty else { return data }
        data.append(chunk)
        if data.count > tokenizeInputLimit {
            throw TokenizeInputError(path: path, reason: "more than 1 GiB of text")
        }
    }
}

/// Encodes `megabytes` MB of mixed text (prose, code, numbers, CJK, Arabic, emoji; or the
/// contents of `file`) and prints the speed. Not a test: a figure for the README.
func runTokenizerBenchmark(_ tokenizer: Tokenizer, megabytes: Int, file: String?) -> Int32 {
    let sample: String
    if let file, let handle = FileHandle(forReadingAtPath: file) {
        sample = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    } else {
        sample = benchmarkSample
    }
    // repeat the sample, numbering each copy so that the text is not one period
    let target = megabytes * 1_000_000
    var text = ""
    text.reserveCapacity(target + sample.utf8.count)
    var copy = 0
    while text.utf8.count < target {
        text += "\(copy * 7919 % 100_003) " + sample
        copy += 1
    }
    let bytes = Double(text.utf8.count)

    // one warm-up pass, then the best of three; wall time, and this thread's CPU time (the
    // figure to trust on a loaded machine)
    var count = tokenizer.encode(text, addSpecial: false).count
    var bestWall = Double.infinity
    var bestCPU = Double.infinity
    for _ in 0..<3 {
        let wallStart = DispatchTime.now().uptimeNanoseconds
        let cpuStart = threadCPUSeconds()
        count = tokenizer.encode(text, addSpecial: false).count
        bestCPU = min(bestCPU, threadCPUSeconds() - cpuStart)
        bestWall = min(bestWall, Double(DispatchTime.now().uptimeNanoseconds - wallStart) / 1e9)
    }
    print(
        String(
            format:
                "tokenize bench: %.2f MB, %d tokens (%.2f bytes/token): %.2f MB/s wall (%.3f s), %.2f MB/s CPU (%.3f s)",
            bytes / 1e6, count, bytes / Double(max(count, 1)), bytes / 1e6 / bestWall, bestWall,
            bytes / 1e6 / bestCPU, bestCPU))
    return 0
}

/// CPU time of the calling thread, in seconds.
private func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Mixed text for the benchmark: English prose and code, numbers, CJK, Arabic, emoji.
let benchmarkSample = """
    The router of a Mixture-of-Experts model sends every token to a few of its experts; \
    the rest stay idle. In 2024, models with 64 experts and 8 active per token became common.
    def route(x, k=2):
        logits = x @ w_gate          # (tokens, experts)
        top = logits.topk(k, dim=-1)
        return softmax(top.values), top.indices

    混合专家模型在每一层为每个词元选择少数专家。日本語の文章も少し含めます。
    نموذج خليط الخبراء يختار عددا قليلا من الخبراء لكل رمز.
    Emoji: 👍🏽 👨‍👩‍👧‍👦 🚀🚀 and numbers 3.14159, 1,000,000, 0x1F.   Indented   text\twith\ttabs.

    """
