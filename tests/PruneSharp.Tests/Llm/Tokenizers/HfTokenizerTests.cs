using System.Text;
using System.Text.Json.Nodes;
using PruneSharp.Data;
using PruneSharp.Llm.Tokenizers;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Llm.Tokenizers;

public class HfTokenizerTests
{
    static HfTokenizer Load(TempFolder dir, JsonNode tokenizer) => HfTokenizer.Load(TokenizerFiles.Write(dir.Path, tokenizer));

    static int[] Bytes(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();

    [Fact]
    public void Byte_level_bpe_splits_words_with_their_space_and_merges_lowest_rank_first()
    {
        using var dir = new TempFolder();
        var tokenizer = Load(dir, TokenizerFiles.ByteLevel());
        Assert.Equal(261, tokenizer.VocabularySize);
        // "the" → t h e → t he (h e, rank 1) → the (t he, rank 3); " the" → Ġ t h e → Ġt h e → Ġt he → Ġthe.
        Assert.Equal([259, 258, 258], tokenizer.Encode("the the the"));
        // "then" is one piece: t he n → the n; "?!" its own piece; "\n" a whitespace piece.
        Assert.Equal([259, 'n', .. Bytes("?!\n")], tokenizer.Encode("then?!\n"));
        Assert.Equal([.. Bytes("a"), 260, 258], tokenizer.Encode("a<|endoftext|> the"));
    }

    [Fact]
    public void Byte_level_bpe_decodes_any_text_back()
    {
        using var dir = new TempFolder();
        var tokenizer = Load(dir, TokenizerFiles.ByteLevel());
        const string text = "héllo wörld, the ✂ 😀\n\tend<|endoftext|>  the";
        var ids = tokenizer.Encode(text);
        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.Contains(260, ids);
    }

    [Fact]
    public void Split_regex_in_a_sequence_then_byte_level_without_regex_as_llama3()
    {
        using var dir = new TempFolder();
        var pre = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = @"\p{N}{1,3}| ?\p{L}+|\s+" }, ["behavior"] = "Isolated", ["invert"] = false },
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
        };
        var tokenizer = Load(dir, TokenizerFiles.ByteLevel(pre));
        // Digits go three at a time; " the" is one piece.
        Assert.Equal([.. Bytes("123"), .. Bytes("45"), 258], tokenizer.Encode("12345 the"));
    }

    [Fact]
    public void Sentencepiece_bpe_marks_spaces_and_falls_back_to_bytes()
    {
        using var dir = new TempFolder();
        var tokenizer = Load(dir, TokenizerFiles.SentencePiece());
        // "hello world" → "▁hello▁world": ▁hello (271); ▁w (273) or (272) l (262) d (266).
        Assert.Equal([271, 273, 272, 262, 266], tokenizer.Encode("hello world"));
        // é is not in the vocabulary: its UTF-8 bytes C3 A9 as <0xC3> <0xA9>.
        Assert.Equal([259, 261, 3 + 0xC3, 3 + 0xA9], tokenizer.Encode("eé"));
        // No BOS is added; an added token in the text is one id, and the stretch after it is normalized on its own.
        Assert.Equal([1, 271], tokenizer.Encode("<s>hello"));
        Assert.Equal("hello world é", tokenizer.Decode(tokenizer.Encode("hello world é")));
    }

    [Fact]
    public void Metaspace_first_prepends_only_at_the_start_of_the_input()
    {
        using var dir = new TempFolder();
        var tokenizer = Load(dir, TokenizerFiles.SentencePiece(metaspace: true));
        Assert.Equal([271, 273, 272, 262, 266], tokenizer.Encode("hello world"));
        // After <s> no ▁ is prepended: h e l l o → h e ll o → h ell o.
        Assert.Equal([271, 1, 260, 269, 263], tokenizer.Encode("hello<s>hello"));
        Assert.Equal("hello world", tokenizer.Decode(tokenizer.Encode("hello world")));
    }

    [Fact]
    public void Merges_as_strings_or_pairs_give_the_same_ids()
    {
        using var dir = new TempFolder();
        var pairs = TokenizerFiles.SentencePiece();
        var strings = TokenizerFiles.SentencePiece();
        strings["model"]!["merges"] = new JsonArray(pairs["model"]!["merges"]!.AsArray().Select(m => (JsonNode)$"{m![0]} {m[1]}").ToArray());
        using var dir2 = new TempFolder();
        const string text = "hello world, hello<s> well";
        Assert.Equal(Load(dir, pairs).Encode(text), Load(dir2, strings).Encode(text));
    }

    [Fact]
    public void Ignore_merges_takes_a_piece_found_in_the_vocabulary_whole()
    {
        using var dir = new TempFolder();
        var json = TokenizerFiles.ByteLevel();
        json["model"]!["vocab"]!["Ġthen"] = 261;
        Assert.Equal([258, 'n'], Load(dir, json).Encode(" then"));
        json["model"]!["ignore_merges"] = true;
        Assert.Equal([261], Load(dir, json).Encode(" then"));
    }

    /// <summary>The definition of BPE, slowly: merge the lowest-ranked adjacent pair (leftmost on ties) until none is ranked.</summary>
    static List<string> NaiveBpe(string word, Dictionary<(string, string), int> ranks)
    {
        var symbols = word.Select(c => c.ToString()).ToList();
        while (true)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (ranks.TryGetValue((symbols[i], symbols[i + 1]), out int rank) && rank < bestRank) (best, bestRank) = (i, rank);
            if (best < 0) return symbols;
            symbols[best] += symbols[best + 1];
            symbols.RemoveAt(best + 1);
        }
    }

    [Fact]
    public void Merging_agrees_with_the_naive_definition_on_random_merges_and_words()
    {
        var random = new Random(11);
        using var dir = new TempFolder();
        for (int trial = 0; trial < 20; trial++)
        {
            var tokens = new List<string> { "a", "b", "c", "d" };
            var ranks = new Dictionary<(string, string), int>();
            var merges = new JsonArray();
            for (int m = 0; m < 40; m++)
            {
                string left = tokens[random.Next(tokens.Count)], right = tokens[random.Next(tokens.Count)];
                if (left.Length + right.Length > 6 || !ranks.TryAdd((left, right), ranks.Count)) continue;
                merges.Add($"{left} {right}");
                if (!tokens.Contains(left + right)) tokens.Add(left + right);
            }
            var vocab = new JsonObject();
            foreach (string token in tokens) vocab[token] = vocab.Count;
            var json = new JsonObject { ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges } };
            var tokenizer = Load(dir, json);
            for (int w = 0; w < 50; w++)
            {
                string word = new(Enumerable.Range(0, random.Next(1, 40)).Select(_ => "abcd"[random.Next(4)]).ToArray());
                var expected = NaiveBpe(word, ranks).Select(s => tokens.IndexOf(s)).ToArray();
                Assert.Equal(expected, tokenizer.Encode(word));
            }
        }
    }

    [Theory]
    [InlineData("model", """{"type": "Unigram", "vocab": []}""", "model.type: model 'Unigram' is not supported")]
    [InlineData("normalizer", """{"type": "Lowercase"}""", "normalizer.type: normalizer 'Lowercase' is not supported")]
    [InlineData("pre_tokenizer", """{"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}, {"type": "Digits", "individual_digits": true}]}""",
        "pre_tokenizer.pretokenizers[1].type: pre-tokenizer 'Digits' is not supported")]
    [InlineData("decoder", """{"type": "WordPiece"}""", "decoder.type: decoder 'WordPiece' is not supported")]
    public void Unimplemented_component_is_refused_naming_the_key(string key, string component, string problem)
    {
        using var dir = new TempFolder();
        var json = TokenizerFiles.ByteLevel();
        json[key] = JsonNode.Parse(component);
        var e = Assert.Throws<DataFormatException>(() => Load(dir, json));
        Assert.Contains(problem, e.Message);
        Assert.StartsWith(Path.Combine(dir.Path, "tokenizer.json"), e.Message);
    }

    [Theory]
    [InlineData("dropout", "0.1", "model.dropout: value 0.1 is not supported")]
    [InlineData("end_of_word_suffix", "\"</w>\"", "model.end_of_word_suffix")]
    [InlineData("merges", "[\"Ġ zz\"]", "model.merges[0]: token 'zz' is not in model.vocab")]
    [InlineData("merges", "[\"a b c\"]", "model.merges[0]: expected two tokens")]
    public void Unimplemented_or_inconsistent_model_setting_is_refused(string key, string value, string problem)
    {
        using var dir = new TempFolder();
        var json = TokenizerFiles.ByteLevel();
        json["model"]![key] = JsonNode.Parse(value);
        Assert.Contains(problem, Assert.Throws<DataFormatException>(() => Load(dir, json)).Message);
    }

    [Fact]
    public void Added_token_that_strips_whitespace_is_refused()
    {
        using var dir = new TempFolder();
        var json = TokenizerFiles.ByteLevel();
        json["added_tokens"]![0]!["lstrip"] = true;
        Assert.Contains("added_tokens[0].lstrip", Assert.Throws<DataFormatException>(() => Load(dir, json)).Message);
    }

    [Fact]
    public void Missing_or_garbled_file_is_refused()
    {
        using var dir = new TempFolder();
        Assert.Throws<DataNotFoundException>(() => HfTokenizer.Load(dir.File("tokenizer.json")));
        File.WriteAllText(dir.File("tokenizer.json"), "{\"model\": ");
        Assert.Contains("is not valid JSON", Assert.Throws<DataFormatException>(() => HfTokenizer.Load(dir.File("tokenizer.json"))).Message);
    }
}
