using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Data.Inputs;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Recipes;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Recipes;

/// <summary>
/// Text and unlabeled data are one library pipeline with two faces too: <c>prune --data FILE.txt</c> on a language
/// model, and <c>prune</c> on unlabeled inputs (an encoder's sentences, arrays), with or without <c>--structured</c>,
/// describe the same pipeline as the recipe with the same <c>data</c> keys, write the same bytes and record the same
/// metrics; the data keys are validated at their line and column with the nearest names.
/// </summary>
[Collection(SerialCollection.Name)]
public class DataRecipeTests
{
    static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Pruning", "Structured", "Fixtures");
    static readonly string Encoder = Path.Combine(Fixtures, "bert_tiny_opset14.onnx");

    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { RunCommand.Create(), PruneCommand.Create() }, args);

    /// <summary>The data a route reads, made in <paramref name="folder"/>: a language model and its text, the encoder's sentences, or images as an array.</summary>
    static (string Model, string Data, string Tokenizer) Make(TempFolder folder, string data)
    {
        switch (data)
        {
            case "text":
                using (var gpt = TinyGpt.Create(new TinyGptOptions(VocabularySize: 256, ContextLength: 16, Layers: 2, Heads: 4, Width: 32, Seed: 1)))
                    OnnxFile.Save(gpt, folder.File("gpt.onnx"));
                File.WriteAllText(folder.File("corpus.txt"), string.Concat(Enumerable.Repeat("In the beginning was the word, and the word was with the text. ", 6)));
                return (folder.File("gpt.onnx"), folder.File("corpus.txt"), "bytes");
            case "sentences":
                File.WriteAllLines(folder.File("sentences.txt"), File.ReadLines(Path.Combine(Fixtures, "bert_encoder_sentences.txt")).Take(8));
                return (Encoder, folder.File("sentences.txt"), $"wordpiece:{Path.Combine(Fixtures, "vocab.txt")}");
            default:
                NpyFile.Write(folder.File("images.npy"), rand(new long[] { 4, 1, 28, 28 }, generator: new Generator(3)));
                return ("resnet-20", folder.File("images.npy"), "bytes");
        }
    }

    public static TheoryData<string, string, string, string, string> Routes => new()
    {
        // A language model on its text: masks, two prune/fine-tune rounds; heads; a residual block.
        { "text", "--sparsity 0.5 --schedule iterative:2 --finetune-epochs 1 --batch-size 8", "{method: magnitude, sparsity: 0.5, schedule: 'iterative:2'}", "{epochs: 1, batch_size: 8}", "" },
        { "text", "--structured head --method l2 --ratio 0.5 --finetune-epochs 1 --batch-size 8", "{structure: head, method: l2, ratio: 0.5}", "{epochs: 1, batch_size: 8}", "" },
        { "text", "--structured block --method influence --blocks 1", "{structure: block, method: influence, blocks: 1}", "{kind: none}", "--recover none" },
        // ... and masks recovered by distillation from the dense model's logits on the training sequences.
        { "text", "--sparsity 0.5 --finetune-epochs 1 --batch-size 8", "{method: magnitude, sparsity: 0.5}", "{kind: distill, epochs: 1, batch_size: 8}", "--recover distill" },
        // An encoder's unlabeled sentences: masks observed by wanda and distilled; heads and FFN width distilled.
        { "sentences", "--method wanda --sparsity 0.5 --finetune-epochs 1 --batch-size 8", "{method: wanda, sparsity: 0.5}", "{kind: distill, epochs: 1, batch_size: 8}", "--recover distill" },
        { "sentences", "--structured head --method l2 --ratio 0.25 --ffn-ratio 0.5 --finetune-epochs 1 --batch-size 8", "{structure: head, method: l2, ratio: 0.25, ffn_ratio: 0.5}",
            "{kind: distill, epochs: 1, batch_size: 8}", "--recover distill" },
        // Images as an array, without classes: a residual block removed by its relative norm, then distillation.
        { "array", "--structured block --method norm --blocks 2 --finetune-epochs 1 --batch-size 4", "{structure: block, method: norm, blocks: 2}",
            "{kind: distill, epochs: 1, batch_size: 4}", "--recover distill" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public void A_flag_set_on_text_or_unlabeled_data_and_its_recipe_describe_the_same_pipeline_and_write_the_same_bytes(string data, string flags, string stage, string recovery, string recover)
    {
        using var folder = new TempFolder();
        var (model, source, tokenizer) = Make(folder, data);
        string tokenizerKey = tokenizer == "bytes" ? "" : $", tokenizer: '{tokenizer}'";
        string context = data switch { "text" => ", context: 16", "sentences" => ", context: 24", _ => "" };
        File.WriteAllText(folder.File("r.yaml"),
            $"model: {model}\ndata: {{source: {source}{tokenizerKey}{context}}}\nstages:\n  - {stage}\nrecovery: {recovery}\nexport: {{path: from-recipe.onnx}}\n");
        var (code, output, error) = Invoke("run", folder.File("r.yaml"), "--store", folder.File("recipe.db"));
        Assert.True(code == 0, error + output);
        string[] dataFlags = ["--data", source, .. tokenizer == "bytes" ? Array.Empty<string>() : ["--tokenizer", tokenizer], .. context.Length == 0 ? Array.Empty<string>() : ["--context", context.Split(' ')[^1]]];
        (code, output, error) = Invoke(["prune", model, .. flags.Split(' '), .. dataFlags, .. recover.Length == 0 ? Array.Empty<string>() : recover.Split(' '),
            "--store", folder.File("prune.db"), "--json", "-o", folder.File("from-flags.onnx")]);
        Assert.True(code == 0, error + output);

        var fromFlags = FlagsAndRecipe.AssertAlike(folder);

        // What the verb printed is what the file holds, and what the run store recorded.
        var report = JsonDocument.Parse(output).RootElement;
        using var written = OnnxFile.Load(folder.File("from-flags.onnx"));
        long parameters = written.parameters().Sum(p => p.numel());
        Assert.Equal(parameters, (long)fromFlags.Metrics[MetricNames.Parameters]);
        if (data == "text")
        {
            Assert.Equal(report.GetProperty("perplexity_after").GetDouble(), fromFlags.Metrics[MetricNames.Perplexity], 9);
            Assert.Equal(report.GetProperty("perplexity_before").GetDouble(), fromFlags.Metrics[MetricNames.DensePerplexity], 9);
            if (recover == "--recover distill")
            {
                var distilled = report.GetProperty("choices").GetProperty("distillation")[0];
                Assert.Equal("kl", distilled.GetProperty("outputs")[0].GetProperty("loss").GetString());
                Assert.True(distilled.GetProperty("loss_before").GetDouble() > 0);
            }
        }
        else if (!flags.Contains("--structured"))
        {
            var fidelity = report.GetProperty("choices").GetProperty("fidelity").GetProperty("outputs").EnumerateArray().ToList();
            Assert.NotEmpty(fidelity);
            Assert.All(fidelity, o => Assert.True(o.GetProperty("cosine_after").GetDouble() >= o.GetProperty("cosine_before").GetDouble() - 1e-6));
        }
        else
        {
            // The dense model taught the smaller one: its outputs were matched.
            var distillation = report.GetProperty("input").GetProperty("distillation")[0];
            Assert.NotEmpty(distillation.GetProperty("outputs").EnumerateArray());
            Assert.True(distillation.GetProperty("loss_before").GetDouble() > 0);
        }
        if (flags.Contains("--structured")) Assert.True(parameters < fromFlags.Metrics[MetricNames.DenseParameters]);
        else Assert.InRange(fromFlags.Metrics[MetricNames.Sparsity], 0.45, 0.55);
    }

    [Theory]
    [InlineData("text")]
    [InlineData("sentences")]
    public void Text_and_unlabeled_recipes_time_the_written_model_beside_the_dense_one(string data)
    {
        using var folder = new TempFolder();
        var (model, source, tokenizer) = Make(folder, data);
        File.WriteAllText(folder.File("r.yaml"), $"""
            model: {model}
            data: {"{"}source: {source}, tokenizer: '{tokenizer}', context: 16{"}"}
            stages: [{"{"}structure: head, method: l2, ratio: 0.5{"}"}]
            recovery: {"{"}kind: none{"}"}
            evaluate: {"{"}latency: true, rounds: 3{"}"}
            export: {"{"}path: timed.onnx{"}"}
            """);
        var (code, output, error) = Invoke("run", folder.File("r.yaml"), "--json", "--store", folder.File("runs.db"));
        Assert.True(code == 0, error + output);
        var latency = JsonDocument.Parse(output).RootElement.GetProperty("latency");
        Assert.Equal(3, latency.GetProperty("rounds").GetInt32());
        Assert.True(latency.GetProperty("median_ms").GetDouble() > 0 && latency.GetProperty("dense_median_ms").GetDouble() > 0);
        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = Assert.Single(runs.ListRuns());
        Assert.Equal(latency.GetProperty("median_ms").GetDouble(), run.Metrics[MetricNames.LatencyMs]);
    }

    [Theory]
    [InlineData("text")]
    [InlineData("sentences")]
    public void Train_examples_limits_what_a_text_or_unlabeled_pipeline_trains_on(string data)
    {
        using var folder = new TempFolder();
        var (model, source, tokenizer) = Make(folder, data);
        string recovery = data == "text" ? "{epochs: 1, batch_size: 1}" : "{kind: distill, epochs: 1, batch_size: 1}";
        File.WriteAllText(folder.File("r.yaml"), $"""
            model: {model}
            data: {"{"}source: {source}, tokenizer: '{tokenizer}', context: 16, train_examples: 3{"}"}
            stages: [{"{"}method: magnitude, sparsity: 0.5{"}"}]
            recovery: {recovery}
            export: {"{"}path: out.onnx{"}"}
            """);
        var (code, output, error) = Invoke("run", folder.File("r.yaml"), "--json", "--store", folder.File("runs.db"));
        Assert.True(code == 0, error + output);
        // One epoch over 3 examples, one at a time: the epoch ends at the third optimizer step.
        using var runs = RunStores.Open(folder.File("runs.db"));
        var run = runs.GetRun(Assert.Single(runs.ListRuns()).Id);
        string phase = data == "text" ? "fine_tune" : "distill";
        Assert.Equal(3, Assert.Single(run.Steps, s => s.Name == $"{phase}_epoch").Step);
        if (data == "sentences") Assert.StartsWith("3 unlabeled examples of input_ids", JsonDocument.Parse(output).RootElement.GetProperty("data").GetString());
    }

    [Fact]
    public void Heads_removed_in_two_steps_report_the_distillation_after_each()
    {
        using var folder = new TempFolder();
        var (model, source, tokenizer) = Make(folder, "sentences");
        var (code, output, error) = Invoke("prune", model, "--structured", "head", "--ratio", "0.5", "--steps", "2", "--data", source, "--tokenizer", tokenizer,
            "--context", "16", "--recover", "distill", "--finetune-epochs", "1", "--batch-size", "4", "--json", "--no-store", "-o", folder.File("steps.onnx"));
        Assert.True(code == 0, error + output);
        var distillations = JsonDocument.Parse(output).RootElement.GetProperty("input").GetProperty("distillation").EnumerateArray().ToList();
        Assert.Equal(2, distillations.Count);
        Assert.All(distillations, d => Assert.True(d.GetProperty("loss_before").GetDouble() > 0));
    }

    [Fact]
    public void A_context_longer_than_the_models_positions_is_refused_by_name_and_nothing_is_written()
    {
        using var folder = new TempFolder();
        var (model, source, _) = Make(folder, "text");
        File.WriteAllText(folder.File("r.yaml"), $"model: {model}\ndata: {{source: {source}, context: 64}}\nstages: [{{method: magnitude, sparsity: 0.5}}]\nexport: {{path: out.onnx}}\n");
        var (code, _, error) = Invoke("run", folder.File("r.yaml"), "--no-store");
        Assert.Equal(1, code);
        Assert.Contains("data.context 64 is longer than the 16 positions the model holds", error);
        (code, _, error) = Invoke("prune", model, "--sparsity", "0.5", "--data", source, "--context", "64", "--no-store", "-o", folder.File("flags.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("--context 64 is longer than the 16 positions the model holds", error);
        Assert.False(File.Exists(folder.File("out.onnx")) || File.Exists(folder.File("flags.onnx")));
    }

    [Fact]
    public void Data_keys_are_checked_at_their_line_and_column_with_the_nearest_names()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("corpus.txt"), "In the beginning was the word.");
        File.WriteAllText(folder.File("vocab.txt"), "[PAD]\n[UNK]\n");
        File.WriteAllText(folder.File("text.yaml"), """
            model: lenet-5
            data:
              source: corpus.txt
              tokenizer: byts
              context: 1
              held_out: 1.5
              normalize: 0.5/0.5
            stages:
              - method: snip
                sparsity: 0.5
              - structure: channel
                method: l1
                ratio: 0.5
                calibration: 8
            recovery: {kind: distill, epochs: 1}
            """);
        var problems = Assert.Throws<RecipeException>(() => Recipe.Load(folder.File("text.yaml"))).Problems.Select(p => p.ToString()).ToList();
        void Reported(string expected) => Assert.Contains(problems, p => p.Contains(expected));
        Reported("text.yaml:4:14: data.tokenizer 'byts' is not bytes, tiktoken:FILE, wordpiece:FILE");
        Reported("(did you mean bytes?)");
        Reported("text.yaml:5:12: data.context must be at least 2 tokens, got 1");
        Reported("text.yaml:6:13: data.held_out must be in (0, 1), got 1.5");
        Reported("text.yaml:7:14: data.normalize applies to image data, not to a text file");
        Reported("text.yaml:9:13: stages[0].method snip is for image classifiers; a language model (a text file) takes magnitude or random");
        Reported("text.yaml:14:18: stages[1].calibration (least-squares reconstruction) needs image data");
        Assert.Equal(6, problems.Count);

        File.WriteAllText(folder.File("sentences.yaml"), $"""
            model: {Encoder}
            data: {"{"}source: corpus.txt, tokenizer: 'wordpeice:vocab.txt', held_out: 0.2{"}"}
            stages:
              - {"{"}structure: head, method: taylor, ratio: 0.25{"}"}
              - {"{"}method: magnitude, sparsity: 0.5, schedule: gradual{"}"}
            recovery: {"{"}kind: finetune, epochs: 1{"}"}
            """);
        problems = Assert.Throws<RecipeException>(() => Recipe.Load(folder.File("sentences.yaml"))).Problems.Select(p => p.ToString()).ToList();
        Reported("sentences.yaml:2:39: data.tokenizer 'wordpeice:vocab.txt' is not bytes");
        Reported("(did you mean wordpiece?)");
        Assert.DoesNotContain(problems, p => p.Contains("has no labels")); // a misspelt tokenizer makes it a language model's text
        problems = Assert.Throws<RecipeException>(() => Recipe.Load(folder.File("sentences.yaml"), [RecipeOverride.Parse($"data.tokenizer=wordpiece:{folder.File("vocab.txt")}")]))
            .Problems.Select(p => p.ToString()).ToList();
        Reported("sentences.yaml:2:72: data.held_out applies to a language model's text");
        Reported("sentences.yaml:4:31: stages[0].method taylor scores with the loss's gradients, which need labels");
        Reported("sentences.yaml:5:50: stages[1].schedule gradual: data.source");
        Reported("holds unlabeled inputs, so one-shot pruning only");
        Reported("sentences.yaml:6:18: data.source");
        Reported("has no labels, so fine-tuning cannot use them: give recovery.kind distill");

        // A misspelt name is reported once, with the nearest names, not again as a method unlabeled data cannot use.
        problems = Assert.Throws<RecipeException>(() => Recipe.Load(folder.File("sentences.yaml"), [RecipeOverride.Parse($"data.tokenizer=wordpiece:{folder.File("vocab.txt")}"),
            RecipeOverride.Parse("stages.0.method=tylor"), RecipeOverride.Parse("stages.1.method=wanad")])).Problems.Select(p => p.ToString()).ToList();
        Assert.Single(problems, p => p.Contains("stages[0].method"));
        Assert.Single(problems, p => p.Contains("stages[1].method"));
        Reported("(did you mean wanda?)");
        Reported("(did you mean taylor?)");

        File.WriteAllText(folder.File("images.yaml"), "model: lenet-5\ndata: {source: fashion-mnist, context: 32}\nstages: [{method: magnitude, sparsity: 0.5}]\n");
        problems = Assert.Throws<RecipeException>(() => Recipe.Load(folder.File("images.yaml"))).Problems.Select(p => p.ToString()).ToList();
        Reported("images.yaml:2:40: data.context applies to a text file");
    }
}
