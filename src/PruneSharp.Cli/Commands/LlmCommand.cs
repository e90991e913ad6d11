using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Llm;
using PruneSharp.Llm.Decoding;
using PruneSharp.Llm.Pruning;
using PruneSharp.Pipelines;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp llm prune|depth|eval|generate|inspect</c>: Hugging Face language-model checkpoints (safetensors) in and
/// out, pruned layer by layer without retraining (magnitude, Wanda, SparseGPT; unstructured or N:M) or made shallower by
/// removing whole decoder layers (ShortGPT), and decoded token by token, dense or from compact sparse weights.
/// </summary>
static class LlmCommand
{
    public static Command Create() => new("llm", "Hugging Face language-model checkpoints: retraining-free pruning (SparseGPT, Wanda, magnitude), layer removal (ShortGPT), perplexity, inspection.")
    {
        Prune(),
        Depth(),
        Eval(),
        Generate(),
        Inspect(),
    };

    static Command Prune()
    {
        var input = new Argument<DirectoryInfo>("checkpoint") { Description = "Checkpoint folder (config.json, model.safetensors or model.safetensors.index.json, tokenizer.json)." };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Folder to write the pruned checkpoint to (same layout as the input).", Required = true };
        var method = new Option<string>("--method") { Description = "magnitude | wanda | sparsegpt.", DefaultValueFactory = _ => "wanda" };
        var sparsity = new Option<string>("--sparsity") { Description = "Fraction of zeros (0.5) or N:M along the input axis (2:4, 4:8).", DefaultValueFactory = _ => "0.5" };
        var calibration = new Option<FileInfo>("--calibration") { Description = "Text file the calibration windows are drawn from (tokenised with the checkpoint's tokenizer).", Required = true };
        var samples = new Option<int>("--nsamples") { Description = "Calibration windows.", DefaultValueFactory = _ => 128 };
        var length = new Option<int>("--seqlen") { Description = "Tokens per calibration window (clipped to the model's positions).", DefaultValueFactory = _ => 2048 };
        var allocation = new Option<string>("--allocation") { Description = "uniform | owl (outlier-weighted layer sparsities; unstructured only).", DefaultValueFactory = _ => "uniform" };
        var owlLambda = new Option<double>("--owl-lambda") { Description = "OWL: layer sparsities stay within the target ± λ.", DefaultValueFactory = _ => OwlAllocation.DefaultLambda };
        var owlThreshold = new Option<double>("--owl-m") { Description = "OWL: a score above M × the layer's mean is an outlier.", DefaultValueFactory = _ => OwlAllocation.DefaultOutlierThreshold };
        var refine = new Option<string>("--refine") { Description = "none | dsnot (training-free mask refinement of magnitude or Wanda masks).", DefaultValueFactory = _ => "none" };
        var blockSize = new Option<int>("--blocksize") { Description = "SparseGPT: columns per lazy-update block.", DefaultValueFactory = _ => 128 };
        var damping = new Option<double>("--percdamp") { Description = "SparseGPT: dampening as a fraction of the mean Hessian diagonal.", DefaultValueFactory = _ => 0.01 };
        var seed = new Option<long>("--seed") { Description = "Seeds the calibration windows.", DefaultValueFactory = _ => 0 };
        var batchSize = new Option<int>("--batch-size") { Description = "Calibration windows per forward pass.", DefaultValueFactory = _ => 4 };
        var replace = new Option<bool>("--replace") { Description = "Replace an existing output folder (only once the new one is complete)." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("prune",
            "Prune a checkpoint layer by layer from a small calibration set; the output loads in transformers unchanged.\n" +
            "Example: prunesharp llm prune llama-dir --method sparsegpt --sparsity 2:4 --calibration train.txt --nsamples 64 --seqlen 256 -o llama-24")
        {
            input, output, method, sparsity, calibration, samples, length, allocation, owlLambda, owlThreshold, refine, blockSize, damping, seed, batchSize, replace, json,
        };
        var store = new StoreFlags();
        foreach (var option in store.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var description = new LlmPruningDescription(parse.GetValue(input)!.FullName, parse.GetValue(output)!.FullName, parse.GetValue(calibration)!.FullName,
                parse.GetValue(method)!, parse.GetValue(sparsity)!, parse.GetValue(samples), parse.GetValue(length), parse.GetValue(allocation)!, parse.GetValue(owlLambda),
                parse.GetValue(owlThreshold), parse.GetValue(refine)!, parse.GetValue(blockSize), parse.GetValue(damping), parse.GetValue(batchSize), parse.GetValue(seed),
                parse.GetValue(replace));
            bool asJson = parse.GetValue(json);
            using var runs = store.Open(parse);
            var recording = runs is null ? null : new PipelineRecording(runs, RunRecording.Describe(parse, "llm prune", LlmPruningPipeline.Method(description)));
            var result = FlagNames.Translate(() => TrainCommand.WithCtrlC(cancel => LlmPruningPipeline.Run(description, asJson ? PipelineProgress.None : Verbosity.Progress, cancel, recording)),
                PruneFields);
            RenderPrune(result, asJson);
        });
        return command;
    }

    /// <summary>The flags that set each field of the prune the verb describes (the library names the fields in its errors).</summary>
    static readonly (string Field, string Flag)[] PruneFields =
    [
        ("llm.calibration", "--calibration"), ("llm.method", "--method"), ("llm.sparsity", "--sparsity"), ("llm.allocation", "--allocation"), ("llm.refine", "--refine"),
        ("llm.nsamples", "--nsamples"), ("llm.seqlen", "--seqlen"), ("llm.batch_size", "--batch-size"), ("llm.blocksize", "--blocksize"), ("llm.percdamp", "--percdamp"),
        ("llm.owl_lambda", "--owl-lambda"), ("llm.owl_m", "--owl-m"), ("export.path", "--output"), ("model", "checkpoint"),
    ];

    /// <summary>A checkpoint prune's report: a table of the layers, or JSON.</summary>
    public static void RenderPrune(LlmPruningRunResult r, bool json)
    {
        var (result, d) = (r.Result, r.Description);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { result.Output, result.Model, method = d.Method, sparsity = r.Pattern.ToString(),
                calibration = new { TextFile = Path.GetFullPath(d.Calibration), Samples = d.Samples, sequenceLength = result.SequenceLength, Seed = d.Seed, tokens = result.Report.CalibrationTokens },
                result.Report.Sparsity, result.Report.Seconds, peakResidentBytes = r.PeakResidentBytes, layers = result.Report.Layers,
                evaluation = r.Perplexity is { } measured ? EvaluationJson(measured) : null }, Table.Json));
            return;
        }
        Console.WriteLine(result.Model);
        Table.Write(Console.Out, ["layer", "target", "sparsity", "error (mean)", "error (max)", "seconds"], result.Report.Layers.Select(l => (IReadOnlyList<string>)
        [
            l.Layer.ToString(CultureInfo.InvariantCulture) + (l.OutlierRatio is { } o ? $" (D={Number(100 * o, "F2")}%)" : ""),
            Percent(l.TargetSparsity),
            Percent(l.Linears.Sum(x => x.Sparsity * x.OutFeatures * x.InFeatures) / l.Linears.Sum(x => (double)x.OutFeatures * x.InFeatures)),
            Number(l.Linears.Average(x => x.ReconstructionError), "F4"),
            Number(l.Linears.Max(x => x.ReconstructionError), "F4"),
            Number(l.Seconds, "F2"),
        ]));
        Console.WriteLine($"linear sparsity {Percent(result.Report.Sparsity)}, {result.Report.CalibrationTokens} calibration tokens ({result.SequenceLength} per window), " +
            $"{Number(result.Report.Seconds, "F1")} s, peak memory {r.PeakResidentBytes / (1 << 20)} MiB");
        Console.WriteLine($"saved {result.Output}");
        if (r.Perplexity is { } perplexity) RenderEvaluation(perplexity, json: false);
    }

    static Command Depth()
    {
        var input = new Argument<DirectoryInfo>("checkpoint") { Description = "Checkpoint folder (config.json, model.safetensors or model.safetensors.index.json, tokenizer.json)." };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Folder to write the shallower checkpoint to (same layout, later layers renumbered).", Required = true };
        var remove = new Option<int?>("--remove") { Description = "How many decoder layers to remove, those of lowest Block Influence (at least 1, fewer than the model has)." };
        var layers = new Option<int[]>("--layers") { Description = "Remove exactly these layers instead (0-based, comma-separated, e.g. 4,5; influence is still measured and printed).", CustomParser = ParseLayers };
        var calibration = new Option<FileInfo>("--calibration") { Description = "Text file the calibration windows are drawn from (tokenised with the checkpoint's tokenizer).", Required = true };
        var samples = new Option<int>("--nsamples") { Description = "Calibration windows.", DefaultValueFactory = _ => 128 };
        var length = new Option<int>("--seqlen") { Description = "Tokens per calibration window (clipped to the model's positions).", DefaultValueFactory = _ => 2048 };
        var seed = new Option<long>("--seed") { Description = "Seeds the calibration windows.", DefaultValueFactory = _ => 0 };
        var batchSize = new Option<int>("--batch-size") { Description = "Calibration windows per forward pass.", DefaultValueFactory = _ => 8 };
        var replace = new Option<bool>("--replace") { Description = "Replace an existing output folder (only once the new one is complete)." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("depth",
            "Remove the decoder layers with the lowest Block Influence (ShortGPT: 1 - mean cosine between a layer's input and output hidden states).\n" +
            "Example: prunesharp llm depth llama-dir --remove 8 --calibration train.txt --nsamples 64 --seqlen 256 -o llama-24-layers")
        {
            input, output, remove, layers, calibration, samples, length, seed, batchSize, replace, json,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetResult(remove) is null) == (result.GetResult(layers) is null))
                result.AddError("give either --remove N (the N layers of lowest Block Influence) or --layers I,J,... (exactly those layers)");
        });
        var store = new StoreFlags();
        foreach (var option in store.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var description = new LlmDepthDescription(parse.GetValue(input)!.FullName, parse.GetValue(output)!.FullName, parse.GetValue(calibration)!.FullName,
                parse.GetValue(remove), parse.GetResult(layers) is null ? null : parse.GetValue(layers), parse.GetValue(samples), parse.GetValue(length), parse.GetValue(batchSize), parse.GetValue(seed),
                parse.GetValue(replace));
            bool asJson = parse.GetValue(json);
            using var runs = store.Open(parse);
            var recording = runs is null ? null : new PipelineRecording(runs, RunRecording.Describe(parse, "llm depth", LlmDepthPipeline.Method(description)));
            var result = FlagNames.Translate(() => TrainCommand.WithCtrlC(cancel => LlmDepthPipeline.Run(description, asJson ? PipelineProgress.None : Verbosity.Progress, cancel, recording)),
                DepthFields);
            RenderDepth(result, asJson);
        });
        return command;
    }

    /// <summary>The flags that set each field of the depth prune the verb describes (the library names the fields in its errors).</summary>
    static readonly (string Field, string Flag)[] DepthFields =
    [
        ("llm.calibration", "--calibration"), ("llm.remove", "--remove"), ("llm.layers", "--layers"), ("llm.nsamples", "--nsamples"), ("llm.seqlen", "--seqlen"),
        ("llm.batch_size", "--batch-size"), ("export.path", "--output"), ("model", "checkpoint"),
    ];

    /// <summary>A depth prune's report: a table of every layer's Block Influence and rank, or JSON.</summary>
    public static void RenderDepth(LlmDepthRunResult r, bool json)
    {
        var (result, d, peak) = (r.Result, r.Description, r.PeakResidentBytes);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { result.Output, result.Model, method = LlmDepthPipeline.ShortGpt,
                calibration = new { TextFile = Path.GetFullPath(d.Calibration), d.Samples, sequenceLength = result.SequenceLength, d.Seed, tokens = result.CalibrationTokens },
                blockInfluence = result.Influence, removed = result.Removed, result.Seconds, peakResidentBytes = peak,
                evaluation = r.Perplexity is { } measured ? EvaluationJson(measured) : null }, Table.Json));
            return;
        }
        Console.WriteLine(result.Model);
        var rank = result.Influence.Select((bi, i) => i).OrderBy(i => result.Influence[i]).ThenByDescending(i => i).Select((layer, position) => (layer, position))
            .ToDictionary(x => x.layer, x => x.position + 1);
        Table.Write(Console.Out, ["layer", "block influence", "rank", "removed"], result.Influence.Select((bi, i) => (IReadOnlyList<string>)
            [i.ToString(CultureInfo.InvariantCulture), Number(bi, "F6"), rank[i].ToString(CultureInfo.InvariantCulture), result.Removed.Contains(i) ? "yes" : ""]));
        Console.WriteLine($"removed {result.Removed.Count} of {result.Influence.Count} layers ({string.Join(", ", result.Removed)}); " +
            $"{result.CalibrationTokens} calibration tokens ({result.SequenceLength} per window), {Number(result.Seconds, "F1")} s, peak memory {peak / (1 << 20)} MiB");
        Console.WriteLine($"saved {result.Output}");
        if (r.Perplexity is { } perplexity) RenderEvaluation(perplexity, json: false);
    }

    static int[] ParseLayers(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = string.Join(",", result.Tokens.Select(t => t.Value));
        var layers = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
            if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int layer)) layers.Add(layer);
            else { result.AddError($"--layers: '{part}' is not a layer index (0-based integers separated by commas, e.g. 4,5)"); return []; }
        return layers.ToArray();
    }

    static Command Eval()
    {
        var input = new Argument<DirectoryInfo>("checkpoint") { Description = "Checkpoint folder." };
        var text = new Option<FileInfo>("--text") { Description = "Text file to score (tokenised as one string with the checkpoint's tokenizer).", Required = true };
        var length = new Option<int>("--seqlen") { Description = "Tokens per window (clipped to the model's positions).", DefaultValueFactory = _ => 2048 };
        var batchSize = new Option<int>("--batch-size") { Description = "Windows per forward pass.", DefaultValueFactory = _ => 8 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("eval",
            "Perplexity of a checkpoint on a text file: non-overlapping windows of --seqlen tokens, each scoring its L-1 next-token predictions.\n" +
            "Example: prunesharp llm eval llama-24 --text heldout.txt --seqlen 256")
        {
            input, text, length, batchSize, json,
        };
        command.SetAction(parse =>
        {
            var description = new LlmEvaluationDescription(parse.GetValue(input)!.FullName, parse.GetValue(text)!.FullName, parse.GetValue(length), parse.GetValue(batchSize));
            RenderEvaluation(FlagNames.Translate(() => TrainCommand.WithCtrlC(cancel => LlmEvaluationPipeline.Run(description, cancel)), EvalFields), parse.GetValue(json));
        });
        return command;
    }

    /// <summary>The flags that set each field of the evaluation the verb describes (the library names the fields in its errors).</summary>
    static readonly (string Field, string Flag)[] EvalFields =
        [("evaluation.text", "--text"), ("evaluation.seqlen", "--seqlen"), ("evaluation.batch_size", "--batch-size"), ("model", "checkpoint")];

    /// <summary>A checkpoint's perplexity: one line, or JSON.</summary>
    public static void RenderEvaluation(LanguageModelPerplexity result, bool json)
    {
        if (json) Console.WriteLine(JsonSerializer.Serialize(EvaluationJson(result), Table.Json));
        else Console.WriteLine($"perplexity {Number(result.Perplexity, "F3")}  ({result.Protocol})");
    }

    /// <summary>A perplexity measurement as JSON (alone, or as a checkpoint prune's <c>evaluation</c>).</summary>
    static object EvaluationJson(LanguageModelPerplexity result) => new
    {
        perplexity = result.Perplexity, tokens = result.Tokens, windows = result.Windows, seqlen = result.SequenceLength, predictions = result.Predictions,
        meanNll = result.MeanNegativeLogLikelihood, protocol = result.Protocol,
    };

    static Command Generate()
    {
        var input = new Argument<DirectoryInfo>("checkpoint") { Description = "Checkpoint folder (config.json, safetensors weights, tokenizer.json)." };
        var prompt = new Option<string>("--prompt") { Description = "Text to continue (encoded with the checkpoint's tokenizer).", Required = true };
        var tokens = new Option<int>("--tokens") { Description = "Tokens to generate.", DefaultValueFactory = _ => 32 };
        var sparse = new Option<bool>("--sparse") { Description = "Run pruned projections from compact matrices (bitmap below 86% sparsity, CSR from there on, or N:M where every group fits in fewer bytes) and free their dense weights." };
        var minSparsity = new Option<double>("--min-sparsity") { Description = "With --sparse: only projections with at least this fraction of zeros are compacted.", DefaultValueFactory = _ => new DecodeOptions().MinSparsity };
        var measure = new Option<int>("--measure") { Description = "With --sparse: time dense against compact per projection for this many rounds and keep the faster (0: always compact).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Threads for libtorch and the sparse kernels.", DefaultValueFactory = _ => 2 };
        var temperature = new Option<double>("--temperature") { Description = "0: greedy; above 0: sample from softmax(logits / T).", DefaultValueFactory = _ => 0 };
        var topK = new Option<int>("--top-k") { Description = "When sampling, pick among the k most likely tokens (0: all).", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "Seeds the sampler.", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("generate",
            "Continue a prompt token by token with a key/value cache (batch 1) and report tokens/s; --sparse decodes from compact sparse weights.\n" +
            "Example: prunesharp llm generate llama-50 --prompt \"The capital of France\" --tokens 64 --sparse --threads 2")
        {
            input, prompt, tokens, sparse, minSparsity, measure, threads, temperature, topK, seed, json,
        };
        command.SetAction(parse =>
        {
            int threadCount = (int)Positive(parse.GetValue(threads), "--threads");
            TorchSharp.torch.set_num_threads(threadCount);
            var options = new DecodeOptions
            {
                Sparse = parse.GetValue(sparse), MinSparsity = Positive(parse.GetValue(minSparsity), "--min-sparsity", allowZero: true),
                MeasureRounds = (int)Positive(parse.GetValue(measure), "--measure", allowZero: true), Threads = threadCount,
            };
            var sampling = new SamplingOptions
            {
                Temperature = Positive(parse.GetValue(temperature), "--temperature", allowZero: true),
                TopK = (int)Positive(parse.GetValue(topK), "--top-k", allowZero: true), Seed = parse.GetValue(seed),
            };
            int count = (int)Positive(parse.GetValue(tokens), "--tokens");
            var result = TrainCommand.WithCtrlC(cancel => TextGeneration.FromCheckpoint(parse.GetValue(input)!.FullName, parse.GetValue(prompt)!, count, options, sampling, cancel));
            var g = result.Generation;
            var compact = result.Plans.Where(p => p.Format != "dense").ToList();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { text = result.Text, promptTokens = g.Prompt, tokens = g.Tokens, prefillSeconds = g.PrefillSeconds, decodeSeconds = g.DecodeSeconds, steps = g.Steps,
                    tokensPerSecond = g.TokensPerSecond, weightBytesPerToken = result.WeightBytesPerToken, threads = threadCount,
                    projections = result.Plans.Select(p => new { name = p.TensorName, rows = p.Rows, columns = p.Columns, sparsity = p.Sparsity, format = p.Format, bytes = p.Bytes,
                    denseMs = p.Measurement?.Dense.Median * 1e3, compactMs = p.Measurement?.Sparse.Median * 1e3 }) }, Table.Json));
                return;
            }
            Console.WriteLine(result.Text);
            string formats = compact.Count == 0 ? $"all {result.Plans.Count} projections dense"
                : $"{string.Join(", ", compact.GroupBy(p => p.Format).Select(f => $"{f.Count()} {f.Key}"))} of {result.Plans.Count} projections compact";
            Console.Error.WriteLine($"{g.Tokens.Count} tokens after a {g.Prompt.Count}-token prompt: prefill {Number(g.PrefillSeconds, "F3")} s, " +
                $"{Number(g.TokensPerSecond, "F2")} tokens/s over {g.Steps} steps ({threadCount} threads; {formats}; {Number(result.WeightBytesPerToken / 1e6, "F1")} MB of weights per token)");
        });
        return command;
    }

    static Command Inspect()
    {
        var input = new Argument<DirectoryInfo>("checkpoint") { Description = "Checkpoint folder." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("inspect", "Architecture, parameters, stored type, and per linear layer its sparsity and N:M validity.\nExample: prunesharp llm inspect llama-24")
        {
            input, json,
        };
        command.SetAction(parse =>
        {
            var inspection = TrainCommand.WithCtrlC(cancel => CheckpointInspection.Of(parse.GetValue(input)!.FullName, cancel));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { inspection.Description, inspection.Parameters, inspection.StoredType, inspection.Files,
                    inspection.Sparsity, inspection.Linears }, Table.Json));
                return;
            }
            Console.WriteLine(inspection.Description);
            Console.WriteLine($"parameters {inspection.Parameters:N0}, stored as {inspection.StoredType} in {inspection.Files.Count} file(s); linear sparsity {Percent(inspection.Sparsity)}");
            Table.Write(Console.Out, ["layer", "linear", "shape", "sparsity", "2:4", "4:8"], inspection.Linears.Select(l => (IReadOnlyList<string>)
                [l.Layer.ToString(CultureInfo.InvariantCulture), l.Name, $"{l.OutFeatures}x{l.InFeatures}", Percent(l.Sparsity), l.Valid2To4 ? "yes" : "no", l.Valid4To8 ? "yes" : "no"]));
        });
        return command;
    }

    static double Positive(double value, string option, bool allowZero = false) =>
        double.IsFinite(value) && (value > 0 || allowZero && value == 0) ? value
            : throw new ArgumentException($"{option} must be a {(allowZero ? "non-negative" : "positive")} finite number, got {value.ToString(CultureInfo.InvariantCulture)}");

    static string Percent(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%";

    static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
