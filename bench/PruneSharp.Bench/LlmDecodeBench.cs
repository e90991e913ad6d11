using System.Globalization;
using System.Text.Json.Nodes;
using PruneSharp.Llm;
using PruneSharp.Llm.Decoding;
using PruneSharp.Llm.Models;
using PruneSharp.Metrics;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// Token-by-token decoding (batch 1, key/value cache) of a random-weight Llama-architecture model held in memory
/// (generated here, nothing downloaded): the same magnitude-pruned weights decoded dense (libtorch) and from compact
/// matrices (per projection the format with the fewest bytes: bitmap, CSR or N:M), in alternating rounds of one-token steps. Prints tokens/s of both (medians), their
/// ratio, the ratio of the fastest rounds (p10; the least disturbed on a shared machine), the weight bytes each reads
/// per token and the bandwidth that implies, and the largest logit difference of the two paths.
/// </summary>
sealed class LlmDecodeBench : IBenchmark
{
    public string Name => "llm-decode";
    public string Description => "decode tokens/s, dense vs sparse (bitmap/CSR/N:M, fewest bytes) at batch 1 ([LAYERS=8] [HIDDEN=2048] [MLP=5632] [VOCAB=32000] [THREADS=2] [ROUNDS=5] [STEPS=8] [PATTERNS=0.5,0.7,2:4])";

    public int Run(string[] args)
    {
        int layers = Arg(args, 0, 8), hidden = Arg(args, 1, 2048), mlp = Arg(args, 2, 5632), vocabulary = Arg(args, 3, 32000);
        int threads = Arg(args, 4, 2), rounds = Arg(args, 5, 5), steps = Arg(args, 6, 8);
        string[] patterns = (args.Length > 7 ? args[7] : "0.5,0.7,2:4").Split(',');
        set_num_threads(threads);
        int heads = hidden / 64, kvHeads = Math.Max(1, heads / 4);
        var config = DecoderConfig.Parse(new JsonObject
        {
            ["model_type"] = "llama", ["hidden_size"] = hidden, ["intermediate_size"] = mlp, ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads, ["num_key_value_heads"] = kvHeads, ["head_dim"] = 64, ["hidden_act"] = "silu",
            ["max_position_embeddings"] = 4096, ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = false,
            ["vocab_size"] = vocabulary,
        }, "llm-decode");
        Console.WriteLine($"llm-decode: llama {layers} layers, hidden {hidden}, {heads} heads ({kvHeads} key/value), MLP {mlp}, vocabulary {vocabulary}; " +
                          $"{threads} threads; {rounds} alternating rounds of {steps} steps; load average {LoadAverage()}");
        var prompt = Enumerable.Range(0, 8).Select(i => (i * 7919 + 13) % vocabulary).ToArray();
        var feed = Enumerable.Range(0, rounds * steps + steps).Select(i => (i * 104729 + 7) % vocabulary).ToArray();
        foreach (string pattern in patterns)
        {
            var source = new RandomLlama(config, pattern.Trim());
            using var model = DecoderModel.Create(config, source);
            using var dense = IncrementalDecoder.Load(model, new DecodeOptions { Threads = threads });
            using var sparse = IncrementalDecoder.Load(model, new DecodeOptions { Sparse = true, Threads = threads });
            source.ForgetProjections();   // from here on the sparse decoder holds only its compact copies (the dense one keeps its own)
            GC.Collect();
            double difference;
            using (var a = dense.Prefill(prompt))
            using (var b = sparse.Prefill(prompt))
                difference = (a - b).abs().max().item<float>() / Math.Max(1, a.abs().max().item<float>());
            // Both decoders are fed the same tokens, so their caches grow alike.
            Action Steps(IncrementalDecoder decoder)
            {
                int at = 0;
                return () =>
                {
                    for (int s = 0; s < steps; s++, at++)
                    {
                        using var logits = decoder.Step(feed[at % feed.Length]);
                    }
                };
            }
            var stats = AlternatingTimer.Measure(rounds, [Steps(dense), Steps(sparse)]);
            double denseRate = steps / stats[0].Median, sparseRate = steps / stats[1].Median;
            var formats = sparse.Plans.GroupBy(p => p.Format).Select(g => $"{g.Count()} {g.Key}");
            double sparsity = sparse.Plans.Sum(p => p.Sparsity * p.Rows * p.Columns) / sparse.Plans.Sum(p => (double)p.Rows * p.Columns);
            string line = $"{pattern,-4} (projections {sparsity:P1} zero; {string.Join(", ", formats)}): dense {denseRate:F2} tokens/s ({dense.WeightBytesPerToken / 1e6:F0} MB/token, " +
                          $"{dense.WeightBytesPerToken * denseRate / 1e9:F2} GB/s), sparse {sparseRate:F2} tokens/s ({sparse.WeightBytesPerToken / 1e6:F0} MB/token, " +
                          $"{sparse.WeightBytesPerToken * sparseRate / 1e9:F2} GB/s); sparse/dense {sparseRate / denseRate:F2}x " +
                          $"(bytes ratio {(double)dense.WeightBytesPerToken / sparse.WeightBytesPerToken:F2}x; step p10-p90 dense {stats[0].Low * 1e3 / steps:F1}-{stats[0].High * 1e3 / steps:F1} ms, " +
                          $"sparse {stats[1].Low * 1e3 / steps:F1}-{stats[1].High * 1e3 / steps:F1} ms; fastest rounds {stats[0].Low / stats[1].Low:F2}x); " +
                          $"prompt logits max relative difference {difference:E1}";
            Console.WriteLine(line);
        }
        Console.WriteLine($"load average at the end {LoadAverage()}");
        return 0;
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "n/a";

    static int Arg(string[] args, int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

    /// <summary>
    /// Random Llama weights (N(0, 0.02²), norms 1), generated tensor by tensor from a seed derived from its name, with
    /// every projection magnitude-pruned to the pattern: a fraction of zeros per matrix, or 2:4 along the input axis.
    /// Tensors are generated once and handed out as aliases (no copy per read).
    /// </summary>
    sealed class RandomLlama(DecoderConfig config, string pattern) : ITensorSource
    {
        readonly Dictionary<string, Tensor> _made = [];
        readonly Dictionary<string, long[]> _shapes = Shapes(config);

        public IReadOnlyList<string> Names => _shapes.Keys.ToList();

        public bool Contains(string name) => _shapes.ContainsKey(name);

        public long[] Shape(string name) => _shapes[name];

        public Tensor Read(string name)
        {
            if (!_made.TryGetValue(name, out var tensor))
            {
                using var scope = NewDisposeScope();
                var shape = _shapes[name];
                tensor = shape.Length == 1 ? ones(shape) : randn(shape, generator: new Generator((ulong)StableHash(name))).mul_(0.02);
                if (name.Contains(".layers.")) tensor = Prune(tensor);
                tensor.MoveToOuterDisposeScope();
                _made[name] = tensor;
            }
            return tensor.alias();
        }

        /// <summary>Drops the projections' tensors, so that only the decoders' own handles keep them alive.</summary>
        public void ForgetProjections()
        {
            foreach (var name in _made.Keys.Where(n => n.Contains(".layers.")).ToList())
            {
                _made[name].Dispose();
                _made.Remove(name);
            }
        }

        Tensor Prune(Tensor weight)
        {
            if (weight.dim() != 2) return weight;
            var magnitude = weight.abs();
            if (pattern == "2:4")
            {
                var groups = magnitude.view(weight.shape[0], -1, 4);
                var keep = zeros_like(groups).scatter_(-1, groups.topk(2, dim: -1).indexes, ones_like(groups)).view(weight.shape);
                return weight.mul(keep);
            }
            double sparsity = double.Parse(pattern, CultureInfo.InvariantCulture);
            long zeros = (long)Math.Round(sparsity * weight.numel());
            if (zeros == 0) return weight;
            var threshold = magnitude.flatten().kthvalue(zeros, 0).values;
            return weight.mul(magnitude.gt(threshold));
        }

        static long StableHash(string name) => name.Aggregate(1469598103934665603L, (h, c) => (h ^ c) * 1099511628211L) & long.MaxValue;

        static Dictionary<string, long[]> Shapes(DecoderConfig c)
        {
            long d = c.HiddenSize, q = c.HeadCount * c.HeadDim, kv = c.KeyValueHeadCount * c.HeadDim, inner = c.IntermediateSize;
            var shapes = new Dictionary<string, long[]> { ["model.embed_tokens.weight"] = [c.VocabularySize, d] };
            for (int i = 0; i < c.LayerCount; i++)
            {
                string p = $"model.layers.{i}.";
                shapes[$"{p}input_layernorm.weight"] = [d];
                shapes[$"{p}post_attention_layernorm.weight"] = [d];
                shapes[$"{p}self_attn.q_proj.weight"] = [q, d];
                shapes[$"{p}self_attn.k_proj.weight"] = [kv, d];
                shapes[$"{p}self_attn.v_proj.weight"] = [kv, d];
                shapes[$"{p}self_attn.o_proj.weight"] = [d, q];
                shapes[$"{p}mlp.gate_proj.weight"] = [inner, d];
                shapes[$"{p}mlp.up_proj.weight"] = [inner, d];
                shapes[$"{p}mlp.down_proj.weight"] = [d, inner];
            }
            shapes["model.norm.weight"] = [d];
            shapes["lm_head.weight"] = [c.VocabularySize, d];
            return shapes;
        }
    }
}
