using System.Buffers.Binary;
using Google.Protobuf;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using PruneSharp.Compression;
using PruneSharp.Llm.Checkpoints;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Tests.Onnx;
using PruneSharp.Tests.Llm.Models;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Cli;

/// <summary>
/// The corpus for the formats that came after the first one: Hugging Face checkpoint folders (config.json,
/// safetensors weights and their index, tokenizer.json), recipes and <c>.psz</c> compressed models; same rule.
/// </summary>
public partial class HostileInputTests
{
    static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true };

    static void EditJson(string file, Action<JsonObject> change)
    {
        var json = JsonNode.Parse(File.ReadAllBytes(file))!.AsObject();
        change(json);
        File.WriteAllText(file, json.ToJsonString(Indented));
    }

    static void EditBytes(string file, Func<byte[], byte[]> change) => File.WriteAllBytes(file, change(File.ReadAllBytes(file)));

    /// <summary>Rewrites a safetensors file's JSON header (the data section is kept as it is: offsets are relative to it).</summary>
    static void EditHeader(string file, Action<JsonObject> change) => EditBytes(file, bytes =>
    {
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = JsonNode.Parse(bytes.AsSpan(8, length).ToArray())!.AsObject();
        change(header);
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var result = new byte[8 + json.Length + bytes.Length - 8 - length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)json.Length);
        json.CopyTo(result, 8);
        bytes.AsSpan(8 + length).CopyTo(result.AsSpan(8 + json.Length));
        return result;
    });

    /// <summary>The same header bytes with the JSON text replaced by <paramref name="text"/>, padded with spaces to the same length.</summary>
    static byte[] SameLengthHeader(byte[] bytes, string text)
    {
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var copy = (byte[])bytes.Clone();
        Encoding.ASCII.GetBytes(text.PadRight(length)).CopyTo(copy, 8);
        return copy;
    }

    /// <summary>A JSON string whose bytes are not UTF-8 (a lead byte followed by a non-continuation byte).</summary>
    static readonly byte[] InvalidUtf8 = [(byte)'"', 0xC3, 0x28, (byte)'"'];

    /// <summary><paramref name="bytes"/> with the first occurrence of <paramref name="ascii"/> replaced by <paramref name="with"/>.</summary>
    static byte[] Splice(byte[] bytes, string ascii, byte[] with)
    {
        int at = bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(ascii));
        Assert.True(at >= 0, $"no {ascii} to replace");
        return [.. bytes[..at], .. with, .. bytes[(at + ascii.Length)..]];
    }

    static long[] Offsets(JsonObject header, string tensor) => header[tensor]!["data_offsets"]!.AsArray().Select(n => n!.GetValue<long>()).ToArray();

    const string Gpt2 = "gpt2-f32", Llama = "llama-gqa-bf16-sharded";
    const string Gpt2Weight = "transformer.h.0.attn.c_attn.weight", Gpt2Bias = "transformer.h.0.attn.c_attn.bias";

    /// <summary>Every checkpoint case: a name, the fixture it starts from and what it does to the copy.</summary>
    static IEnumerable<(string Name, string Fixture, Action<string> Damage)> Checkpoints()
    {
        string F(string folder, string name) => Path.Combine(folder, name);
        var random = new Random(23);

        // config.json
        yield return ("config.json missing", Llama, f => File.Delete(F(f, "config.json")));
        yield return ("config.json empty", Llama, f => File.WriteAllBytes(F(f, "config.json"), []));
        yield return ("config.json truncated to half", Llama, f => EditBytes(F(f, "config.json"), b => b[..(b.Length / 2)]));
        var noise = new byte[512];
        random.NextBytes(noise);
        yield return ("config.json of random bytes", Llama, f => File.WriteAllBytes(F(f, "config.json"), noise));
        yield return ("config.json with invalid UTF-8 in a string", Llama, f => EditBytes(F(f, "config.json"), b => Splice(b, "\"llama\"", InvalidUtf8)));
        yield return ("config.json a JSON list", Llama, f => File.WriteAllText(F(f, "config.json"), "[1, 2, 3]"));
        yield return ("config.json nested 10000 levels", Llama, f => File.WriteAllText(F(f, "config.json"), string.Concat(Enumerable.Repeat("{\"a\": ", 10_000)) + "1" + new string('}', 10_000)));
        foreach (var (name, change) in new (string, Action<JsonObject>)[]
        {
            ("without hidden_size", c => c.Remove("hidden_size")),
            ("without model_type", c => c.Remove("model_type")),
            ("model_type frobnicator", c => c["model_type"] = "frobnicator"),
            ("hidden_size a string", c => c["hidden_size"] = "64"),
            ("num_hidden_layers true", c => c["num_hidden_layers"] = true),
            ("num_attention_heads 4.5", c => c["num_attention_heads"] = 4.5),
            ("hidden_size 10^12", c => c["hidden_size"] = 1_000_000_000_000),
            ("num_hidden_layers -1", c => c["num_hidden_layers"] = -1),
            ("num_hidden_layers 10^6", c => c["num_hidden_layers"] = 1_000_000),
            ("num_hidden_layers 1 of 2 stored", c => c["num_hidden_layers"] = 1),
            ("num_attention_heads 3 (not dividing 64)", c => { c["num_attention_heads"] = 3; c.Remove("head_dim"); }),
            ("num_key_value_heads 3 of 4 heads", c => c["num_key_value_heads"] = 3),
            ("head_dim 7", c => c["head_dim"] = 7),
            ("vocab_size 10^12", c => c["vocab_size"] = 1_000_000_000_000),
            ("max_position_embeddings 10^12", c => c["max_position_embeddings"] = 1_000_000_000_000),
            ("intermediate_size 10^15", c => c["intermediate_size"] = 1_000_000_000_000_000),
            ("rms_norm_eps 1e400", c => c["rms_norm_eps"] = JsonNode.Parse("1e400")),
            ("rope_theta -1", c => c["rope_parameters"]!["rope_theta"] = -1),
            ("rope type yarn", c => c["rope_parameters"]!["rope_type"] = "yarn"),
            ("dtype float3", c => c["dtype"] = "float3"),
        })
            yield return ($"config.json {name}", Llama, f => EditJson(F(f, "config.json"), change));
        for (int i = 0; i < 4; i++)
        {
            int at = random.Next((int)new FileInfo(Path.Combine(TransformersReferenceTests.Folder, Llama, "config.json")).Length), bit = random.Next(8);
            yield return ($"config.json bit {bit} of byte {at} flipped", Llama, f => EditBytes(F(f, "config.json"), b => { b[at] ^= (byte)(1 << bit); return b; }));
        }
        yield return ("gpt2 config.json without n_embd", Gpt2, f => EditJson(F(f, "config.json"), c => c.Remove("n_embd")));
        yield return ("gpt2 config.json n_head 5", Gpt2, f => EditJson(F(f, "config.json"), c => c["n_head"] = 5));
        yield return ("gpt2 config.json n_positions 10^12", Gpt2, f => EditJson(F(f, "config.json"), c => c["n_positions"] = 1_000_000_000_000));

        // model.safetensors (GPT-2, one file)
        string W(string f) => F(f, HfCheckpoint.SingleFile);
        yield return ("safetensors header length 2^62", Gpt2, f => EditBytes(W(f), b => { BinaryPrimitives.WriteUInt64LittleEndian(b, 1UL << 62); return b; }));
        yield return ("safetensors header length 0", Gpt2, f => EditBytes(W(f), b => { BinaryPrimitives.WriteUInt64LittleEndian(b, 0); return b; }));
        yield return ("safetensors header length past the end", Gpt2, f => EditBytes(W(f), b => { BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)b.Length); return b; }));
        yield return ("safetensors of 5 bytes", Gpt2, f => File.WriteAllBytes(W(f), [1, 2, 3, 4, 5]));
        yield return ("safetensors empty", Gpt2, f => File.WriteAllBytes(W(f), []));
        yield return ("safetensors header of random bytes", Gpt2, f => EditBytes(W(f), b =>
        {
            var garbage = new byte[(int)BinaryPrimitives.ReadUInt64LittleEndian(b)];
            new Random(29).NextBytes(garbage);
            garbage.CopyTo(b, 8);
            return b;
        }));
        yield return ("safetensors header a JSON list", Gpt2, f => EditBytes(W(f), b => SameLengthHeader(b, "[1, 2]")));
        yield return ("safetensors header nested 1000 levels", Gpt2, f => EditBytes(W(f), b => SameLengthHeader(b, new string('[', 1000) + new string(']', 1000))));
        yield return ("safetensors header not UTF-8", Gpt2, f => EditBytes(W(f), b => { b[9] = 0xC3; b[10] = 0x28; return b; }));
        yield return ("safetensors offsets outside the file", Gpt2, f => EditHeader(W(f), h => h[Gpt2Bias]!["data_offsets"] = new JsonArray(0, 1_000_000_000)));
        yield return ("safetensors offsets reversed", Gpt2, f => EditHeader(W(f), h =>
        {
            var o = Offsets(h, Gpt2Bias);
            h[Gpt2Bias]!["data_offsets"] = new JsonArray(o[1], o[0]);
        }));
        yield return ("safetensors offsets overlapping another tensor", Gpt2, f => EditHeader(W(f), h =>
        {
            var weight = Offsets(h, Gpt2Weight);
            var bias = Offsets(h, Gpt2Bias);
            h[Gpt2Bias]!["data_offsets"] = new JsonArray(weight[0] + 4, weight[0] + 4 + bias[1] - bias[0]);
        }));
        yield return ("safetensors offsets negative", Gpt2, f => EditHeader(W(f), h => h[Gpt2Bias]!["data_offsets"] = new JsonArray(-768, 0)));
        yield return ("safetensors dtype Q7", Gpt2, f => EditHeader(W(f), h => h[Gpt2Weight]!["dtype"] = "Q7"));
        yield return ("safetensors dtype a number", Gpt2, f => EditHeader(W(f), h => h[Gpt2Weight]!["dtype"] = 5));
        yield return ("safetensors dtype F16 for F32 bytes", Gpt2, f => EditHeader(W(f), h => h[Gpt2Weight]!["dtype"] = "F16"));
        yield return ("safetensors shape x dtype != bytes", Gpt2, f => EditHeader(W(f), h => h[Gpt2Weight]!["shape"] = new JsonArray(64, 193)));
        yield return ("safetensors shape negative", Gpt2, f => EditHeader(W(f), h => h[Gpt2Weight]!["shape"] = new JsonArray(-64, -192)));
        yield return ("safetensors shape 2^40 x 2^40", Gpt2, f => EditHeader(W(f), h => h[Gpt2Weight]!["shape"] = new JsonArray(1L << 40, 1L << 40)));
        yield return ("safetensors shape a string", Gpt2, f => EditHeader(W(f), h => h[Gpt2Weight]!["shape"] = "64x192"));
        yield return ("safetensors tensor missing", Gpt2, f => EditHeader(W(f), h => h.Remove("transformer.wte.weight")));
        yield return ("safetensors tensor of the wrong shape", Gpt2, f => EditHeader(W(f), h => h[Gpt2Weight]!["shape"] = new JsonArray(192, 64)));
        yield return ("safetensors metadata not strings", Gpt2, f => EditHeader(W(f), h => h["__metadata__"] = new JsonObject { ["format"] = 5 }));
        yield return ("safetensors entry without offsets", Gpt2, f => EditHeader(W(f), h => h[Gpt2Bias]!.AsObject().Remove("data_offsets")));
        long weights = new FileInfo(Path.Combine(TransformersReferenceTests.Folder, Gpt2, HfCheckpoint.SingleFile)).Length;
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(Path.Combine(TransformersReferenceTests.Folder, Gpt2, HfCheckpoint.SingleFile)).AsSpan(0, 8));
        for (int i = 1; i <= 6; i++)
        {
            int length = (int)(weights * i / 7);
            yield return ($"safetensors truncated at {length}", Gpt2, f => EditBytes(W(f), b => b[..length]));
        }
        yield return ($"safetensors truncated inside the header at {headerEnd / 2}", Gpt2, f => EditBytes(W(f), b => b[..(headerEnd / 2)]));
        for (int i = 0; i < 16; i++)
        {
            // The header is where structure lives: flip most bits there, some in the weights.
            int at = i < 12 ? random.Next(headerEnd) : random.Next(headerEnd, (int)weights), bit = random.Next(8);
            yield return ($"safetensors bit {bit} of byte {at} flipped", Gpt2, f => EditBytes(W(f), b => { b[at] ^= (byte)(1 << bit); return b; }));
        }

        // model.safetensors.index.json (Llama, four shards)
        string I(string f) => F(f, HfCheckpoint.IndexFile);
        const string Shard2 = "model-00002-of-00004.safetensors";
        void MapEvery(string f, string from, string to) => EditJson(I(f), index =>
        {
            var map = index["weight_map"]!.AsObject();
            foreach (var key in map.Where(e => e.Value!.GetValue<string>() == from).Select(e => e.Key).ToList()) map[key] = to;
        });
        yield return ("index naming a missing shard", Llama, f => MapEvery(f, Shard2, "model-00009-of-00009.safetensors"));
        yield return ("index with a shard path escaping the folder", Llama, f =>
        {
            File.Copy(F(f, Shard2), Path.Combine(Path.GetDirectoryName(f)!, Shard2));
            MapEvery(f, Shard2, "../" + Shard2);
        });
        yield return ("index with an absolute shard path", Llama, f => MapEvery(f, Shard2, "/etc/passwd"));
        yield return ("index with an empty shard name", Llama, f => MapEvery(f, Shard2, ""));
        yield return ("a shard linked from outside the folder", Llama, f =>
        {
            string outside = Path.Combine(Path.GetDirectoryName(f)!, Shard2);
            File.Move(F(f, Shard2), outside);
            File.CreateSymbolicLink(F(f, Shard2), outside);
        });
        yield return ("index with invalid UTF-8 in a tensor name", Llama, f => EditBytes(I(f), b => Splice(b, "\"lm_head.weight\"", InvalidUtf8)));
        yield return ("index of random bytes", Llama, f => File.WriteAllBytes(I(f), noise));
        yield return ("index with an empty weight_map", Llama, f => EditJson(I(f), index => index["weight_map"] = new JsonObject()));
        yield return ("index with weight_map a list", Llama, f => EditJson(I(f), index => index["weight_map"] = new JsonArray(1, 2)));
        yield return ("index with a file name that is a number", Llama, f => EditJson(I(f), index => index["weight_map"]!["lm_head.weight"] = 7));
        yield return ("index placing a tensor in the wrong shard", Llama, f => EditJson(I(f), index => index["weight_map"]!["lm_head.weight"] = Shard2));
        yield return ("index not listing a stored tensor", Llama, f => EditJson(I(f), index => index["weight_map"]!.AsObject().Remove("lm_head.weight")));
        yield return ("a shard deleted", Llama, f => File.Delete(F(f, Shard2)));
        yield return ("a shard truncated to half", Llama, f => EditBytes(F(f, Shard2), b => b[..(b.Length / 2)]));
        yield return ("a folder named like a shard", Llama, f => { File.Delete(F(f, Shard2)); Directory.CreateDirectory(F(f, Shard2)); });
        yield return ("neither model.safetensors nor an index", Llama, f => File.Delete(I(f)));

        // tokenizer.json (read by eval and prune)
        string T(string f) => F(f, "tokenizer.json");
        yield return ("tokenizer.json missing", Gpt2, f => File.Delete(T(f)));
        yield return ("tokenizer.json empty", Gpt2, f => File.WriteAllBytes(T(f), []));
        yield return ("tokenizer.json with invalid UTF-8 in a string", Gpt2, f => EditBytes(T(f), b => Splice(b, "\"BPE\"", InvalidUtf8)));
        yield return ("tokenizer.json of random bytes", Gpt2, f => File.WriteAllBytes(T(f), noise));
        yield return ("tokenizer.json truncated to half", Gpt2, f => EditBytes(T(f), b => b[..(b.Length / 2)]));
        yield return ("tokenizer.json with model a number", Gpt2, f => EditJson(T(f), t => t["model"] = 5));
        yield return ("tokenizer.json of an unknown model type", Gpt2, f => EditJson(T(f), t => t["model"]!["type"] = "Frobnicate"));
        yield return ("tokenizer.json with an empty vocabulary", Gpt2, f => EditJson(T(f), t => { t["model"]!["vocab"] = new JsonObject(); t["model"]!["merges"] = new JsonArray(); }));
        yield return ("tokenizer.json with token ids past the vocabulary", Gpt2, f => EditJson(T(f), t =>
        {
            var vocab = t["model"]!["vocab"]!.AsObject();
            foreach (var key in vocab.Select(e => e.Key).ToList()) vocab[key] = vocab[key]!.GetValue<long>() + 1_000_000_000;
        }));
        for (int i = 0; i < 4; i++)
        {
            int at = random.Next(2000), bit = random.Next(8);   // structure first: model type, normalizer, pre-tokenizer, added tokens
            yield return ($"tokenizer.json bit {bit} of byte {at} flipped", Gpt2, f => EditBytes(T(f), b => { b[at] ^= (byte)(1 << bit); return b; }));
        }
        yield return ("tokenizer.json with negative token ids", Gpt2, f => EditJson(T(f), t =>
        {
            var vocab = t["model"]!["vocab"]!.AsObject();
            foreach (var key in vocab.Select(e => e.Key).ToList()) vocab[key] = -1 - vocab[key]!.GetValue<long>();
        }));
    }

    [Fact]
    public void Every_hostile_checkpoint_folder_ends_in_a_clean_error_or_a_valid_result_in_every_llm_verb()
    {
        var outcomes = new Outcomes();
        using var shared = new TempFolder();
        string text = shared.File("text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("And God said, Let there be light: and there was light. ", 12)));
        var verbs = new Func<string, string, string[]>[]
        {
            (c, _) => ["llm", "inspect", c],
            (c, _) => ["llm", "eval", c, "--text", text, "--seqlen", "32", "--batch-size", "2"],
            (c, o) => ["llm", "prune", c, "--method", "magnitude", "--sparsity", "0.5", "--calibration", text, "--nsamples", "2", "--seqlen", "32",
                "--no-store", "-o", o],
            (c, o) => ["llm", "depth", c, "--remove", "1", "--calibration", text, "--nsamples", "2", "--seqlen", "32", "--no-store", "-o", o],
            (c, _) => ["llm", "generate", c, "--prompt", "And God said", "--tokens", "2", "--sparse", "--min-sparsity", "0"],
        };
        foreach (var (name, fixture, damage) in Checkpoints())
        {
            using var folder = new TempFolder();
            string checkpoint = folder.File("checkpoint");
            Directory.CreateDirectory(checkpoint);
            foreach (string file in Directory.GetFiles(Path.Combine(TransformersReferenceTests.Folder, fixture)).Where(f => !f.EndsWith("reference.safetensors", StringComparison.Ordinal)))
                File.Copy(file, Path.Combine(checkpoint, Path.GetFileName(file)));
            damage(checkpoint);
            outcomes.Cases++;
            foreach (var verb in verbs)
            {
                if (Directory.Exists(folder.File("out"))) Directory.Delete(folder.File("out"), recursive: true);
                Judge(outcomes, name, verb(checkpoint, folder.File("out")), folder.File("out"), folder.Path);
            }
        }
        foreach (var (name, bytes) in new (string, byte[])[] { ("text empty", []), ("text of NUL bytes", new byte[300]) })
        {
            using var folder = new TempFolder();
            File.WriteAllBytes(text, bytes);
            outcomes.Cases++;
            string checkpoint = Path.Combine(TransformersReferenceTests.Folder, Gpt2);
            foreach (var verb in verbs[1..4])
            {
                if (Directory.Exists(folder.File("out"))) Directory.Delete(folder.File("out"), recursive: true);
                Judge(outcomes, name, verb(checkpoint, folder.File("out")), folder.File("out"), folder.Path);
            }
        }
        log.WriteLine("valid results: " + string.Join("; ", outcomes.Valid));
        log.WriteLine($"checkpoint folders: {outcomes.Cases} cases = {outcomes.Runs} runs: {outcomes.CleanErrors} clean errors, {outcomes.ValidResults} valid results, {outcomes.Failures.Count} failures");
        Assert.True(outcomes.Failures.Count == 0, string.Join("\n", outcomes.Failures));
    }

    const string BaseRecipe = """
        model: m.onnx
        seed: 0
        stages:
          - method: magnitude
            sparsity: 0.5
        recovery:
          kind: none
        evaluate: false
        export:
          path: out.onnx
        """;

    /// <summary>Every recipe case: a name and the recipe's text, or its bytes; some also write the model it names.</summary>
    static IEnumerable<(string Name, Func<TempFolder, byte[]> Make, string[] Overrides)> Recipes()
    {
        byte[] Text(string text) => Encoding.UTF8.GetBytes(text);
        byte[] With(string from, string to)
        {
            Assert.Contains(from, BaseRecipe);
            return Text(BaseRecipe.Replace(from, to));
        }
        var random = new Random(31);
        var noise = new byte[2048];
        random.NextBytes(noise);
        string bomb = "a: &a [\"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\", \"x\"]\n" +
            string.Concat("bcdefghi".Select((c, i) => $"{c}: &{c} [{string.Join(", ", Enumerable.Repeat("*" + "abcdefghi"[i], 9))}]\n")) + BaseRecipe;
        yield return ("the valid recipe", _ => Text(BaseRecipe), []);
        yield return ("empty", _ => [], []);
        yield return ("random bytes", _ => noise, []);
        yield return ("NUL bytes", _ => new byte[512], []);
        yield return ("UTF-16 with a byte-order mark", _ => [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(BaseRecipe)], []);
        yield return ("an unclosed list", _ => With("sparsity: 0.5", "sparsity: [0.5"), []);
        yield return ("a tab in the indentation", _ => With("    sparsity", "\tsparsity"), []);
        yield return ("two documents", _ => Text(BaseRecipe + "\n---\n" + BaseRecipe), []);
        yield return ("a list at the top", _ => Text("- model: m.onnx\n"), []);
        yield return ("a scalar at the top", _ => Text("m.onnx\n"), []);
        yield return ("an alias bomb (billion laughs)", _ => Text(bomb), []);
        yield return ("one alias", _ => With("seed: 0", "seed: &s 0\nother: *s"), []);
        yield return ("100000 nested lists", _ => Text("model: " + new string('[', 100_000) + new string(']', 100_000) + "\n"), []);
        yield return ("100000 nested mappings", _ => Text("model: " + string.Concat(Enumerable.Repeat("{a: ", 100_000)) + "1" + new string('}', 100_000) + "\n"), []);
        yield return ("a mapping as a key", _ => Text("? {model: m.onnx}\n: x\n" + BaseRecipe), []);
        yield return ("a key written twice", _ => Text(BaseRecipe + "\nmodel: other.onnx\n"), []);
        yield return ("5000 unknown keys", _ => Text(BaseRecipe + "\n" + string.Concat(Enumerable.Range(0, 5_000).Select(i => $"k{i:D5}: 1\n"))), []);
        yield return ("a list of 50000 items", _ => With("sparsity: 0.5", "sparsity: [" + string.Join(",", Enumerable.Repeat("0", 50_000)) + "]"), []);
        yield return ("longer than a mebibyte", _ => Text(BaseRecipe + "\n# " + new string('x', 2 << 20) + "\n"), []);
        yield return ("sparsity .nan", _ => With("sparsity: 0.5", "sparsity: .nan"), []);
        yield return ("sparsity .inf", _ => With("sparsity: 0.5", "sparsity: .inf"), []);
        yield return ("sparsity -0.5", _ => With("sparsity: 0.5", "sparsity: -0.5"), []);
        yield return ("sparsity 1e999", _ => With("sparsity: 0.5", "sparsity: 1e999"), []);
        yield return ("seed 10^30", _ => With("seed: 0", "seed: 1000000000000000000000000000000"), []);
        yield return ("seed -1", _ => With("seed: 0", "seed: -1"), []);
        yield return ("sparsity a word", _ => With("sparsity: 0.5", "sparsity: half"), []);
        yield return ("stages a number", _ => Text(BaseRecipe.Replace("  - method: magnitude\n    sparsity: 0.5", "").Replace("stages:", "stages: 5")), []);
        yield return ("a stage a number", _ => Text(BaseRecipe.Replace("  - method: magnitude\n    sparsity: 0.5", "  - 5")), []);
        yield return ("no stages", _ => Text(BaseRecipe.Replace("  - method: magnitude\n    sparsity: 0.5", "").Replace("stages:", "stages: []")), []);
        yield return ("model a list", _ => With("model: m.onnx", "model: [m.onnx, m.onnx]"), []);
        yield return ("recovery a string", _ => Text(BaseRecipe.Replace("  kind: none\n", "").Replace("recovery:", "recovery: none")), []);
        yield return ("export a number", _ => Text(BaseRecipe.Replace("  path: out.onnx", "").Replace("export:", "export: 3")), []);
        yield return ("export into /proc", _ => With("path: out.onnx", "path: /proc/out.onnx"), []);
        yield return ("an unknown key", _ => Text(BaseRecipe + "\nfrobnicate: 1\n"), []);
        yield return ("an unknown stage key", _ => With("sparsity: 0.5", "sparsty: 0.5"), []);
        yield return ("an unknown method", _ => With("method: magnitude", "method: magic"), []);
        yield return ("a model that does not exist", _ => With("model: m.onnx", "model: missing.onnx"), []);
        yield return ("a model that is a folder", f => { Directory.CreateDirectory(f.File("dir.onnx")); return With("model: m.onnx", "model: dir.onnx"); }, []);
        yield return ("a model of random bytes", f => { File.WriteAllBytes(f.File("bad.onnx"), noise); return With("model: m.onnx", "model: bad.onnx"); }, []);
        yield return ("a model truncated to half", f => { EditBytes(f.File("m.onnx"), b => b[..(b.Length / 2)]); return Text(BaseRecipe); }, []);
        yield return ("a model declaring dimension 10^12", f =>
        {
            var model = BadInputTests.SmallCnnModel();
            model.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new PruneSharp.Onnx.Proto.TensorShapeProto.Types.Dimension { DimValue = 1_000_000_000_000 };
            File.WriteAllBytes(f.File("m.onnx"), model.ToByteArray());
            return Text(BaseRecipe);
        }, []);
        yield return ("a model at /etc/passwd", _ => With("model: m.onnx", "model: /etc/passwd"), []);
        yield return ("a model at /dev/zero", _ => With("model: m.onnx", "model: /dev/zero"), []);
        // Recipes over language-model checkpoints (llm eval and llm prune as recipes).
        string Checkpoint(TempFolder f, string fixture, Action<string>? damage = null)
        {
            string folder = f.File("ck");
            Directory.CreateDirectory(folder);
            foreach (string file in Directory.GetFiles(Path.Combine(TransformersReferenceTests.Folder, fixture)).Where(p => !p.EndsWith("reference.safetensors", StringComparison.Ordinal)))
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            damage?.Invoke(folder);
            File.WriteAllText(f.File("t.txt"), string.Concat(Enumerable.Repeat("And God said, Let there be light: and there was light. ", 12)));
            return "model: ck\n";
        }
        const string Evaluation = "evaluation: {text: t.txt, seqlen: 32, batch_size: 2}\n";
        const string LlmPrune = "llm: {method: magnitude, sparsity: \"0.5\", calibration: t.txt, nsamples: 2, seqlen: 32}\nexport: {path: out.onnx}\n";
        yield return ("an evaluation of a valid checkpoint", f => Text(Checkpoint(f, Gpt2) + Evaluation), []);
        yield return ("an evaluation of a checkpoint whose config.json is a list", f => Text(Checkpoint(f, Gpt2, c => File.WriteAllText(Path.Combine(c, "config.json"), "[]")) + Evaluation), []);
        yield return ("an evaluation of a checkpoint whose header length is 2^62", f => Text(Checkpoint(f, Gpt2,
            c => EditBytes(Path.Combine(c, HfCheckpoint.SingleFile), b => { BinaryPrimitives.WriteUInt64LittleEndian(b, 1UL << 62); return b; })) + Evaluation), []);
        yield return ("an evaluation of a checkpoint without tokenizer.json", f => Text(Checkpoint(f, Gpt2, c => File.Delete(Path.Combine(c, "tokenizer.json"))) + Evaluation), []);
        yield return ("an llm prune of a valid checkpoint", f => Text(Checkpoint(f, Llama) + LlmPrune), []);
        yield return ("an llm prune of a checkpoint missing a shard", f => Text(Checkpoint(f, Llama, c => File.Delete(Path.Combine(c, "model-00002-of-00004.safetensors"))) + LlmPrune), []);
        yield return ("an llm prune of a checkpoint whose index escapes the folder", f => Text(Checkpoint(f, Llama,
            c => EditJson(Path.Combine(c, HfCheckpoint.IndexFile), index => index["weight_map"]!["lm_head.weight"] = "../../etc/passwd")) + LlmPrune), []);
        yield return ("--set sparsity nan", _ => Text(BaseRecipe), ["stages.0.sparsity=nan"]);
        yield return ("--set a key nowhere", _ => Text(BaseRecipe), ["a.b.c.d=1"]);
        yield return ("--set stage 99", _ => Text(BaseRecipe), ["stages.99.sparsity=0.5"]);
        yield return ("--set without a key", _ => Text(BaseRecipe), ["=1"]);
        yield return ("--set an alias", _ => Text(BaseRecipe), ["seed=*a"]);
        yield return ("--set nested lists", _ => Text(BaseRecipe), ["seed=" + new string('[', 10_000)]);
    }

    [Fact]
    public void Every_hostile_recipe_ends_in_a_clean_error_or_a_valid_result_checked_run_and_swept()
    {
        var outcomes = new Outcomes();
        foreach (var (name, make, overrides) in Recipes())
        {
            using var folder = new TempFolder();
            OnnxFile.Write(TestGraphs.SmallCnn(), folder.File("m.onnx"));
            string recipe = folder.File("recipe.yaml");
            File.WriteAllBytes(recipe, make(folder));
            outcomes.Cases++;
            string[] sets = [.. overrides.SelectMany(o => new[] { "--set", o })];
            Judge(outcomes, name, ["run", recipe, "--check", "--no-store", .. sets], null, folder.Path);
            Judge(outcomes, name, ["run", recipe, "--no-store", .. sets], folder.File("out.onnx"), folder.Path);
            // A sweep reads the recipe once per cell; as a Slurm job array not submitted, it only writes the script and the cells.
            Judge(outcomes, name, ["sweep", recipe, "--backend", "slurm", "--no-submit", "--seeds", "2", "--out", folder.File("sweep"),
                "--store", folder.File("sweep", "runs.db"), .. sets], folder.File("sweep"), folder.Path,
                sweep =>
                {
                    // Two seeds, or one cell where the recipe has no seed (an evaluation: both cells are the same).
                    Assert.InRange(File.ReadAllLines(Path.Combine(sweep, "cells.txt")).Length, 1, 2);
                    Assert.True(File.Exists(Path.Combine(sweep, "sweep.sbatch")));
                });
        }
        // A device as the recipe: refused without reading it whole.
        outcomes.Cases++;
        Judge(outcomes, "the recipe /dev/zero", ["run", "/dev/zero", "--check", "--no-store"], null);
        log.WriteLine("valid results: " + string.Join("; ", outcomes.Valid));
        log.WriteLine($"recipes: {outcomes.Cases} cases = {outcomes.Runs} runs: {outcomes.CleanErrors} clean errors, {outcomes.ValidResults} valid results, {outcomes.Failures.Count} failures");
        Assert.True(outcomes.Failures.Count == 0, string.Join("\n", outcomes.Failures));
    }

    /// <summary>A run store holding one completed run with steps, metrics, layers and an artifact.</summary>
    static byte[] ValidRunStore(TempFolder folder)
    {
        string path = folder.File("valid-runs.db");
        using (var store = new PruneSharp.Runs.SqliteRunStore(path))
        {
            long id = store.BeginRun(PruneSharp.Tests.Runs.RunStoreTests.Start());
            store.RecordStep(id, 0, new Dictionary<string, double> { ["loss"] = 1.5 });
            store.FinishRun(id, PruneSharp.Runs.RunStatus.Completed, new PruneSharp.Runs.RunOutcome
            {
                Metrics = new Dictionary<string, double> { ["accuracy"] = 0.9 },
                Layers = [new PruneSharp.Metrics.ParameterSparsity("fc.weight", [10, 4], 40, 20)],
                Artifacts = [new PruneSharp.Runs.RunArtifact("model", "/tmp/m.onnx", new string('a', 64), 10)],
            });
        }
        byte[] bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    /// <summary>Runs SQL on the store file at <paramref name="path"/> (a store damaged from inside, as another program could leave it).</summary>
    static void Sql(string path, string sql)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public void Every_hostile_run_store_ends_in_a_clean_error_or_a_valid_result_in_every_verb_that_reads_it()
    {
        using var folder = new TempFolder();
        byte[] valid = ValidRunStore(folder);
        var random = new Random(41);
        var noise = new byte[4096];
        random.NextBytes(noise);
        var cases = new List<(string Name, Action<string> Make)>
        {
            ("the valid store", s => File.WriteAllBytes(s, valid)),
            ("an empty file", s => File.WriteAllBytes(s, [])),
            ("random bytes", s => File.WriteAllBytes(s, noise)),
            ("truncated to half", s => File.WriteAllBytes(s, valid[..(valid.Length / 2)])),
            ("truncated to 100 bytes", s => File.WriteAllBytes(s, valid[..100])),
            ("a folder", s => Directory.CreateDirectory(s)),
            ("schema version 99", s => { File.WriteAllBytes(s, valid); Sql(s, "UPDATE schema_info SET version = 99"); }),
            ("no runs table", s => { File.WriteAllBytes(s, valid); Sql(s, "PRAGMA foreign_keys = OFF; DROP TABLE runs"); }),
            ("a runs table without host", s => { File.WriteAllBytes(s, valid); Sql(s, "ALTER TABLE runs DROP COLUMN host"); }),
            ("an unknown status", s => { File.WriteAllBytes(s, valid); Sql(s, "UPDATE runs SET status = 'weird'"); }),
            ("a start time that is text", s => { File.WriteAllBytes(s, valid); Sql(s, "UPDATE runs SET started_ms = 'yesterday'"); }),
            ("a process id that is text", s => { File.WriteAllBytes(s, valid); Sql(s, "UPDATE runs SET pid = 'abc'"); }),
            ("a layer shape that is not numbers", s => { File.WriteAllBytes(s, valid); Sql(s, "UPDATE layer_sparsity SET shape = 'axb'"); }),
            ("a metric that is text", s => { File.WriteAllBytes(s, valid); Sql(s, "UPDATE final_metrics SET value = 'high'"); }),
            ("a step metric that is text", s => { File.WriteAllBytes(s, valid); Sql(s, "UPDATE step_metrics SET value = 'low'"); }),
            ("an artifact of -1 bytes and a short hash", s => { File.WriteAllBytes(s, valid); Sql(s, "UPDATE artifacts SET bytes = -1, sha256 = 'ab'"); }),
            ("an end time that is text", s => { File.WriteAllBytes(s, valid); Sql(s, "UPDATE runs SET ended_ms = 'later'"); }),
            ("a kind that is a blob", s => { File.WriteAllBytes(s, valid); Sql(s, "UPDATE runs SET kind = x'00ff'"); }),
        };
        for (int i = 0; i < 8; i++)
        {
            // SQLite's header is the first 100 bytes; the schema follows on the first page.
            int at = i < 4 ? random.Next(100) : random.Next(valid.Length), bit = random.Next(8);
            cases.Add(($"bit {bit} of byte {at} flipped", s => { var b = (byte[])valid.Clone(); b[at] ^= (byte)(1 << bit); File.WriteAllBytes(s, b); }));
        }
        var outcomes = new Outcomes();
        foreach (var (name, make) in cases)
        {
            using var one = new TempFolder();
            string store = one.File("runs.db"), report = one.File("report.html");
            make(store);
            outcomes.Cases++;
            Judge(outcomes, name, ["runs", "list", "--store", store], null);
            Judge(outcomes, name, ["runs", "show", "1", "--store", store], null);
            Judge(outcomes, name, ["runs", "compare", "1", "1", "--store", store], null);
            Judge(outcomes, name, ["report", store, "-o", report], report, validate: html => Assert.Contains("<html", File.ReadAllText(html)));
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
        log.WriteLine("valid results: " + string.Join("; ", outcomes.Valid));
        log.WriteLine($"run stores: {outcomes.Cases} cases = {outcomes.Runs} runs: {outcomes.CleanErrors} clean errors, {outcomes.ValidResults} valid results, {outcomes.Failures.Count} failures");
        Assert.True(outcomes.Failures.Count == 0, string.Join("\n", outcomes.Failures));
    }

    /// <summary>Where each section of a <c>.psz</c> file starts and where its payload lies.</summary>
    static List<(int Start, int Payload, int Length)> PszSections(byte[] bytes)
    {
        var sections = new List<(int, int, int)>();
        // Stops at a section that runs past the end (a damaged length).
        for (int offset = PszFormat.HeaderLength; offset + 3 <= bytes.Length;)
        {
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 1));
            int payload = offset + 3 + nameLength + 8;
            if (payload > bytes.Length) break;
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(payload - 8));
            if (length > (ulong)(bytes.Length - payload - 4)) break;
            sections.Add((offset, payload, (int)length));
            offset = payload + (int)length + 4;
        }
        return sections;
    }

    /// <summary>Recomputes the header's checksum and every section's, so that a change is judged by what it says, not by its CRC.</summary>
    static byte[] Reseal(byte[] bytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), Crc32.Compute(bytes.AsSpan(0, 20)));
        foreach (var (start, payload, length) in PszSections(bytes))
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(payload + length), Crc32.Compute(bytes.AsSpan(start, payload + length - start)));
        return bytes;
    }

    /// <summary>Every .psz case: a name, the bytes, and whether it is a checksum's job to catch it (a bit flip).</summary>
    static IEnumerable<(string Name, byte[] Bytes, bool Flip)> PszCases(byte[] valid)
    {
        var random = new Random(37);
        var sections = PszSections(valid);
        var layer = sections[1];
        int rank = valid[layer.Payload + 3];
        int centroidAt = layer.Payload + 4 + 8 * rank;
        int centroids = (int)BinaryPrimitives.ReadUInt32LittleEndian(valid.AsSpan(centroidAt));
        int entriesAt = centroidAt + 4 + 4 * centroids;
        byte[] Change(Action<byte[]> change, bool reseal = true)
        {
            var bytes = (byte[])valid.Clone();
            change(bytes);
            return reseal ? Reseal(bytes) : bytes;
        }
        yield return ("the valid file", valid, false);
        yield return ("empty", [], false);
        yield return ("the magic only", valid[..4], false);
        yield return ("an ONNX model named .psz", BadInputTests.SmallCnnModel().ToByteArray(), false);
        for (int i = 1; i <= 8; i++) yield return ($"truncated at {valid.Length * i / 9}", valid[..(valid.Length * i / 9)], false);
        yield return ("one byte appended", [.. valid, 0], false);
        for (int i = 0; i < 24; i++)
        {
            // A third in the header and section headers, the rest anywhere.
            int at = i < 8 ? random.Next(i % 2 == 0 ? PszFormat.HeaderLength : Math.Min(valid.Length, layer.Payload + 64)) : random.Next(valid.Length), bit = random.Next(8);
            yield return ($"bit {bit} of byte {at} flipped", Change(b => b[at] ^= (byte)(1 << bit), reseal: false), true);
        }
        for (int i = 0; i < 4; i++)
        {
            int at = random.Next(valid.Length - 16);
            var garbage = new byte[16];
            random.NextBytes(garbage);
            yield return ($"16 random bytes at {at}", Change(b => garbage.CopyTo(b, at), reseal: false), false);
        }
        yield return ("header garbled and resealed", Change(b => random.NextBytes(b.AsSpan(4, 16))), false);
        yield return ("version 2", Change(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), 2)), false);
        yield return ("2^32 - 1 sections", Change(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), uint.MaxValue)), false);
        yield return ("no sections", Change(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), 0)), false);
        yield return ("a file length of 2^63", Change(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(12), 1UL << 63)), false);
        yield return ("a section name of 65535 bytes", Change(b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(layer.Start + 1), ushort.MaxValue)), false);
        yield return ("a payload of 2^63 bytes", Change(b => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(layer.Payload - 8), 1UL << 63)), false);
        yield return ("the model section of random bytes", Change(b => random.NextBytes(b.AsSpan(sections[0].Payload, sections[0].Length))), false);
        yield return ("a layer named like no initializer", Change(b => b[layer.Payload - 9] ^= 0x20), false);
        yield return ("two sections for one layer", Change(b => valid.AsSpan(layer.Start + 3, layer.Payload - 8 - layer.Start - 3).CopyTo(b.AsSpan(sections[2].Start + 3))), false);
        yield return ("an unknown layer kind", Change(b => b[layer.Payload] = 9), false);
        yield return ("0 bits per weight", Change(b => b[layer.Payload + 1] = 0), false);
        yield return ("17 bits per weight", Change(b => b[layer.Payload + 1] = 17), false);
        yield return ("rank 0", Change(b => b[layer.Payload + 3] = 0), false);
        yield return ("a dimension of 2^40", Change(b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(layer.Payload + 4), 1L << 40)), false);
        yield return ("a dimension of 2^62 twice", Change(b =>
        {
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(layer.Payload + 4), 1L << 62);
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(layer.Payload + 12), 1L << 62);
        }), false);
        yield return ("a dimension of -1", Change(b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(layer.Payload + 4), -1)), false);
        yield return ("a dimension of 0", Change(b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(layer.Payload + 4), 0)), false);
        yield return ("2^32 - 1 centroids", Change(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(centroidAt), uint.MaxValue)), false);
        yield return ("a centroid NaN", Change(b => BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(centroidAt + 4), float.NaN)), false);
        yield return ("2^32 - 1 stored entries", Change(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(entriesAt), uint.MaxValue)), false);
        yield return ("2^31 stored code lengths", Change(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(entriesAt + 4), 1u << 31)), false);
        yield return ("code lengths of 255", Change(b => b.AsSpan(entriesAt + 8, 4).Fill(255)), false);
    }

    [Fact]
    public void Every_hostile_psz_file_ends_in_a_clean_error_or_a_valid_result_and_every_bit_flip_is_caught()
    {
        using var folder = new TempFolder();
        using (var module = ModelZoo.CreateClassifier("lenet-300-100", new ClassifierOptions(Seed: 1)))
        {
            var graph = module.ToGraph();
            foreach (string name in new[] { "fc1.weight", "fc2.weight", "fc3.weight" })
                graph.Initializers[name] = graph.Initializers[name].mul(graph.Initializers[name].abs().gt(0.05)).to(ScalarType.Float32);
            OnnxFile.Write(graph, folder.File("pruned.onnx"));
        }
        var compressed = CliInvocation.Run(new System.CommandLine.RootCommand("test") { PruneSharp.Cli.Commands.CompressCommand.Create() },
            ["compress", folder.File("pruned.onnx"), "--bits", "fc=4", "-o", folder.File("m.psz")]);
        Assert.True(compressed.Code == 0, compressed.Error);
        byte[] valid = File.ReadAllBytes(folder.File("m.psz"));
        var outcomes = new Outcomes();
        foreach (var (name, bytes, flip) in PszCases(valid))
        {
            outcomes.Cases++;
            File.WriteAllBytes(folder.File("case.psz"), bytes);
            int valid0 = outcomes.ValidResults;
            Judge(outcomes, name, ["decompress", folder.File("case.psz"), "-o", folder.File("out.onnx")], folder.File("out.onnx"), folder.Path);
            if (flip && outcomes.ValidResults > valid0) outcomes.Failures.Add($"{name}: decompressed without a word");
            File.Delete(folder.File("out.onnx"));
        }
        log.WriteLine("valid results: " + string.Join("; ", outcomes.Valid));
        log.WriteLine($"psz: {outcomes.Cases} cases = {outcomes.Runs} runs: {outcomes.CleanErrors} clean errors, {outcomes.ValidResults} valid results, {outcomes.Failures.Count} failures");
        Assert.True(outcomes.Failures.Count == 0, string.Join("\n", outcomes.Failures));
    }
}
