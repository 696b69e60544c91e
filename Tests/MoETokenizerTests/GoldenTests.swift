import Foundation
import Testing

@testable import MoETokenizer

/// Token ids against the reference libraries (`tokenizers` for the byte-level BPE vocabularies,
/// `sentencepiece` for `spm`) on every hard string of Scripts/fixtures/tokenizer_strings.py.
@Suite struct GoldenTests {
    @Test(arguments: TokenizerFixtures.names)
    func idsMatchTheReference(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let model = try #require(TokenizerFixtures.goldens.models[name])
        let strings = TokenizerFixtures.goldens.strings
        #expect(strings.count >= 300)
        #expect(tokenizer.vocabularySize == model.vocab_size)
        // SentencePiece does not parse control-token text, the `tokenizers` library does.
        let parseSpecial = tokenizer.kind == .bytePair
        var mismatches = 0
        for (text, expected) in zip(strings, model.cases) {
            let actual = tokenizer.encode(text, addSpecial: false, parseSpecial: parseSpecial)
            if actual != expected.ids {
                if mismatches == 0 {
                    let details = describeMismatch(
                        text, expected: expected.ids, actual: actual, tokenizer: tokenizer)
                    Issue.record("\(name) (\(model.reference)): first mismatch\n\(details)")
                }
                mismatches += 1
            }
        }
        #expect(mismatches == 0, "\(name): \(mismatches) of \(strings.count) strings differ")
    }

    /// All strings in one long text: the piece cache, long fragments, specials between them.
    @Test(arguments: TokenizerFixtures.names)
    func longTextMatchesTheReference(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let model = try #require(TokenizerFixtures.goldens.models[name])
        let text = TokenizerFixtures.goldens.strings.joined(
            separator: TokenizerFixtures.goldens.join)
        let actual = tokenizer.encode(
            text, addSpecial: false, parseSpecial: tokenizer.kind == .bytePair)
        if actual != model.joined {
            let common = min(actual.count, model.joined.count)
            let first = (0..<common).first { actual[$0] != model.joined[$0] } ?? common
            let window = max(0, first - 5)..<min(common, first + 5)
            Issue.record(
                "\(name): joined text differs at token \(first) of \(model.joined.count): expected \(model.joined[window]), got \(actual[window])"
            )
        }
        #expect(tokenizer.decode(actual, renderSpecial: true) == text)
    }

    @Test(arguments: TokenizerFixtures.names)
    func decodeRoundTrips(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let model = try #require(TokenizerFixtures.goldens.models[name])
        var failures = 0
        for (text, expected) in zip(TokenizerFixtures.goldens.strings, model.cases)
        where expected.roundtrip {
            let decoded = tokenizer.decode(expected.ids, renderSpecial: true)
            if decoded != text {
                if failures == 0 {
                    Issue.record(
                        "\(name): decode(\(expected.ids)) = \(decoded.debugDescription), expected \(text.debugDescription)"
                    )
                }
                failures += 1
            }
        }
        #expect(failures == 0, "\(name): \(failures) strings do not round-trip")
    }

    @Test(arguments: TokenizerFixtures.names)
    func streamingDecodeEqualsWholeDecode(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let model = try #require(TokenizerFixtures.goldens.models[name])
        for expected in model.cases {
            var decoder = tokenizer.makeStreamingDecoder(renderSpecial: true)
            let pieces = expected.ids.map { decoder.append($0) } + [decoder.finish()]
            // the same bytes decoded in one go (no prefix-space removal on either side)
            var whole = ""
            var repair = UTF8Repair()
            repair.decode(expected.ids.flatMap { tokenizer.bytes(of: $0) }, into: &whole)
            repair.finish(into: &whole)
            #expect(pieces.joined() == whole)
            // characters split across tokens are held back, never replaced
            if !whole.unicodeScalars.contains("\u{FFFD}") {
                #expect(!pieces.contains { $0.unicodeScalars.contains("\u{FFFD}") })
            }
        }
    }

    @Test(arguments: TokenizerFixtures.names)
    func invalidBytesBecomeReplacementCharacters(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let model = try #require(TokenizerFixtures.goldens.models[name])
        #expect(!model.decodes.isEmpty)
        for expected in model.decodes {
            #expect(
                tokenizer.decode(expected.ids) == expected.text,
                "\(name): decode(\(expected.ids))")
            var decoder = tokenizer.makeStreamingDecoder()
            let streamed = expected.ids.map { decoder.append($0) }.joined() + decoder.finish()
            #expect(streamed == expected.text, "\(name): streaming \(expected.ids)")
        }
    }

    @Test(arguments: TokenizerFixtures.names)
    func specialTokensFollowTheFile(name: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let model = try #require(TokenizerFixtures.goldens.models[name])
        #expect(tokenizer.bosID == model.bos)
        #expect(tokenizer.eosID == model.eos)
        #expect(tokenizer.addsBOS == model.add_bos)
        #expect(tokenizer.isEndOfGeneration(model.eos))
        let plain = tokenizer.encode("Hello world", addSpecial: false)
        let withSpecial = tokenizer.encode("Hello world", addSpecial: true)
        #expect(withSpecial == (model.add_bos ? [model.bos] + plain : plain))
    }
}
