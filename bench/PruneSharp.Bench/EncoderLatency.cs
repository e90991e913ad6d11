using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Graph.Passes;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// A transformer encoder exported with several inputs (BERT-style: input_ids, attention_mask, token_type_ids, dynamic
/// batch and sequence): loaded with the structural passes, pruned by L2 magnitude to 75% of its heads and 50% of
/// its FFN width (and then also 75% of the hidden size, approximate: LayerNorm renormalises, and the outputs narrow), written, and timed in
/// ONNX Runtime against the dense file side by side (alternating rounds).
/// </summary>
sealed class EncoderLatency : IBenchmark
{
    public string Name => "encoder";
    public string Description => "encoder ONNX Runtime latency, dense vs heads -25% + FFN -50% (and hidden -25%, approximate): MODEL.onnx [--length L] [--batch B] [--rounds R] [--threads T]";

    public int Run(string[] args)
    {
        int length = 128, batch = 1, rounds = 100, threads = 2;
        string? file = null;
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--length": length = int.Parse(args[++i]); break;
                case "--batch": batch = int.Parse(args[++i]); break;
                case "--rounds": rounds = int.Parse(args[++i]); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                default: file = args[i]; break;
            }
        if (file is null) { Console.Error.WriteLine($"usage: {Name} {Description}"); return 2; }

        var graph = OnnxFile.Read(file);
        StructuralPasses.Apply(graph);
        using var model = new GraphModule(graph);
        model.eval();
        // Every input synthesised from the graph (token ids within their table, ones for a mask) at batch x length.
        var synthesised = InputSynthesis.Synthesize(graph, new InputSynthesisOptions { BatchSize = batch, SequenceLength = length }, seed: 3);
        var inputs = graph.Inputs.Select((input, k) => (input.Name, Value: synthesised[k])).ToDictionary(p => p.Name, p => p.Value);
        var ordered = model.InputNames.Select(n => inputs[n]).ToArray();
        var dependencies = DependencyGraph.Build(model, ordered);
        var importance = new MagnitudeImportance(IncludeReads: true);
        var removed = ChannelSelection.Select(dependencies, importance, new ChannelPruningOptions { Unit = PruningUnit.Head, Ratio = 0.25 });
        foreach (var (group, channels) in ChannelSelection.Select(dependencies, importance, new ChannelPruningOptions { Ratio = 0.5 })) removed[group] = channels;
        int heads = AttentionHeads.Find(dependencies).Sum(a => a.Heads), ffn = dependencies.Groups.Count(g => !g.IsHeads && g.IsExact);
        Console.WriteLine($"{Path.GetFileName(file)}: {heads} heads in {AttentionHeads.Find(dependencies).Count} layers, {ffn} exact channel groups (FFN), " +
                          $"{dependencies.Groups.Count(g => !g.IsExact)} approximate, {dependencies.Blocked.Count} left out" +
                          string.Concat(dependencies.Blocked.Select(b => $"\n  left out: {b.Size} channels of {b.Producers[0]} (+{b.Producers.Count - 1}): {b.Reasons[0]}")));
        var variants = new List<(string Label, GraphModule Model)> { ("heads -25% + FFN -50%", Surgery.Apply(dependencies, removed)) };
        // The hidden size is the width of the outputs: it goes only when they may narrow, and LayerNorm makes it approximate.
        var narrow = DependencyGraph.Build(model, ordered, narrowOutputs: true);
        var hidden = ChannelSelection.Select(narrow, importance, new ChannelPruningOptions { Ratio = 0.25, Approximate = true })
            .Where(r => !narrow.Groups[r.Key].IsExact).ToDictionary(r => r.Key, r => r.Value);
        if (hidden.Count > 0)
        {
            foreach (var (group, channels) in ChannelSelection.Select(narrow, importance, new ChannelPruningOptions { Unit = PruningUnit.Head, Ratio = 0.25 })) hidden[group] = channels;
            foreach (var (group, channels) in ChannelSelection.Select(narrow, importance, new ChannelPruningOptions { Ratio = 0.5 })) hidden[group] = channels;
            variants.Add(("+ hidden -25% (approximate)", Surgery.Apply(narrow, hidden)));
        }
        else Console.WriteLine("hidden -25% (approximate): not available, the hidden size is not a prunable group of this model (see 'left out')");

        string scratch = Directory.CreateTempSubdirectory("prunesharp-encoder-").FullName;
        try
        {
            // The dense model is timed twice: as exported, and as written after the load passes (folded shape arithmetic,
            // fused LayerNorm written back) like the pruned files, so that the speedups of pruning are read against the latter.
            var timed = new List<(string Label, GraphModule Model)> { ("dense (as exported)", model), ("dense after the load passes", model) };
            timed.AddRange(variants);
            var files = new List<string> { file };
            foreach (var (_, written) in timed.Skip(1))
            {
                string path = Path.Combine(scratch, $"model{files.Count}.onnx");
                OnnxFile.Save(written, path);
                files.Add(path);
            }
            var runners = files.Select(f => new OnnxRuntimeRunner(f, threads)).ToList();
            var medians = Timing.Medians(rounds, runners.Select(r => (Action)(() =>
            {
                using var scope = NewDisposeScope();
                r.Run(inputs);
            })).ToArray());
            var dense = runners[0].Run(inputs);
            Console.WriteLine($"ONNX Runtime, batch {batch}, length {length}, {threads} threads, median of {rounds} alternating rounds; speedup against the dense model after the load passes; " +
                              "cosine: mean over the batch of each output row's cosine to the dense model's (random token ids, no recovery)");
            for (int i = 0; i < files.Count; i++)
            {
                var (label, timedModel) = timed[i];
                long parameters = timedModel.parameters().Sum(p => p.numel());
                var outputs = runners[i].Run(inputs);
                string cosine = string.Join("  ", dense.Keys.Where(outputs.ContainsKey).Select(k =>
                    dense[k].shape.SequenceEqual(outputs[k].shape)
                        ? $"{k} {nn.functional.cosine_similarity(dense[k].flatten(1), outputs[k].flatten(1), dim: 1).mean().item<float>():F3}"
                        : $"{k} [{string.Join("x", outputs[k].shape)}]"));
                Console.WriteLine($"  {label,-30} {medians[i] * 1000,9:F2} ms  speedup x{medians[1] / medians[i],5:F2}  {parameters / 1e6,7:F3}M params  cosine {cosine}");
            }
            foreach (var r in runners) r.Dispose();
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
            foreach (var (_, pruned) in variants) pruned.Dispose();
        }
        return 0;
    }
}
