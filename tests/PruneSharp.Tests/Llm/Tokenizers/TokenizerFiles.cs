using System.Text.Json.Nodes;

namespace PruneSharp.Tests.Llm.Tokenizers;

/// <summary>Small tokenizer.json files written by hand, in the layouts real checkpoints use.</summary>
static class TokenizerFiles
{
    /// <summary>GPT-2's byte alphabet, in byte order (byte b is token id b).</summary>
    public static string[] ByteAlphabet()
    {
        var table = new string[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
            table[b] = ((char)(b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255 ? b : next++)).ToString();
        return table;
    }

    /// <summary>
    /// Byte-level BPE as GPT-2: ids 0..255 are the bytes, then the merges' results in order
    /// (Ġ t → 256, h e → 257, Ġt he → 258, t he → 259), and <c>&lt;|endoftext|&gt;</c> = 260.
    /// </summary>
    public static JsonObject ByteLevel(JsonNode? preTokenizer = null)
    {
        var vocab = new JsonObject();
        var alphabet = ByteAlphabet();
        for (int b = 0; b < 256; b++) vocab[alphabet[b]] = b;
        string[][] merges = [["Ġ", "t"], ["h", "e"], ["Ġt", "he"], ["t", "he"]];
        foreach (var m in merges) vocab[m[0] + m[1]] = vocab.Count;
        vocab["<|endoftext|>"] = 260;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(AddedToken(260, "<|endoftext|>")),
            ["normalizer"] = null,
            ["pre_tokenizer"] = preTokenizer ?? new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "", ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["vocab"] = vocab,
                ["merges"] = new JsonArray(merges.Select(m => (JsonNode)$"{m[0]} {m[1]}").ToArray()),
            },
        };
    }

    /// <summary>
    /// SentencePiece-style BPE as Llama 2: &lt;unk&gt; 0, &lt;s&gt; 1, &lt;/s&gt; 2, &lt;0x00&gt;..&lt;0xFF&gt; 3..258, then
    /// ▁ 259, h 260, e 261, l 262, o 263, w 264, r 265, d 266, and merges l l → ll 267, ▁ h → ▁h 268, e ll → ell 269,
    /// ▁h ell → ▁hell 270, ▁hell o → ▁hello 271, o r → or 272, ▁ w → ▁w 273.
    /// </summary>
    public static JsonObject SentencePiece(bool metaspace = false)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 3 + b;
        foreach (string c in new[] { "▁", "h", "e", "l", "o", "w", "r", "d" }) vocab[c] = vocab.Count;
        string[][] merges = [["l", "l"], ["▁", "h"], ["e", "ll"], ["▁h", "ell"], ["▁hell", "o"], ["o", "r"], ["▁", "w"]];
        foreach (var m in merges) vocab[m[0] + m[1]] = vocab.Count;
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(AddedToken(0, "<unk>"), AddedToken(1, "<s>"), AddedToken(2, "</s>")),
            ["normalizer"] = metaspace ? null : new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = metaspace ? new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false } : null,
            ["post_processor"] = new JsonObject { ["type"] = "TemplateProcessing" },
            ["decoder"] = metaspace ? new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false } : new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" },
                    new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = "<unk>", ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = true, ["byte_fallback"] = true, ["ignore_merges"] = false, ["vocab"] = vocab,
                ["merges"] = new JsonArray(merges.Select(m => (JsonNode)new JsonArray(m[0], m[1])).ToArray()),
            },
        };
        return tokenizer;
    }

    public static JsonObject AddedToken(int id, string content) => new()
    {
        ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
    };

    public static string Write(string folder, JsonNode tokenizer)
    {
        string path = Path.Combine(folder, "tokenizer.json");
        File.WriteAllText(path, tokenizer.ToJsonString());
        return path;
    }
}
