using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli;
using PruneSharp.Cli.Commands;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Cli;

/// <summary>The commands' handlers run in-process: bad input gives exit code 1 and one line naming the problem.</summary>
[Collection(SerialCollection.Name)]
public class CommandTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args)
    {
        var root = new RootCommand("test") { TrainCommand.Create(), EvalCommand.Create(), PruneCommand.Create(), LthCommand.Create(), DemoCommand.Create(), InspectCommand.Create() };
        return CliInvocation.Run(root, args);
    }

    [Theory]
    [InlineData("--method", "foo", "--method 'foo' is not one of")]
    [InlineData("--sparsity", "1.5", "--sparsity must be in [0, 1), got 1.5")]
    [InlineData("--granularity", "3:2", "--granularity '3:2'")]
    [InlineData("--scope", "everywhere", "--scope 'everywhere' is not one of")]
    [InlineData("--schedule", "iterative:0", "--schedule 'iterative:0'")]
    public void Prune_refuses_bad_choices_with_one_line(string option, string value, string message)
    {
        using var folder = new TempFolder();
        var args = new List<string> { "prune", "lenet-300-100", option, value, "-o", folder.File("out.onnx") };
        if (option != "--sparsity") args.AddRange(new[] { "--sparsity", "0.5" });
        var (code, _, error) = Invoke(args.ToArray());
        Assert.Equal(1, code);
        Assert.Contains(message, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(File.Exists(folder.File("out.onnx")));
    }

    [Fact]
    public void Prune_writes_a_model_with_the_requested_zeros()
    {
        using var folder = new TempFolder();
        var (code, output, error) = Invoke("prune", "lenet-300-100", "--scope", "global", "--sparsity", "0.9", "--exclude", "fc3.*", "--first-last", "prune", "--json", "-o", folder.File("p.onnx"));
        Assert.True(code == 0, error);
        Assert.Contains("\"compression_ratio\"", output);
        var graph = OnnxFile.Read(folder.File("p.onnx"));
        var weights = graph.Initializers.Where(i => i.Key is "fc1.weight" or "fc2.weight").Select(i => i.Value).ToList();
        long total = weights.Sum(w => w.numel()), zeros = weights.Sum(w => w.numel() - w.count_nonzero().item<long>());
        Assert.Equal(0.9, (double)zeros / total, 2);
        Assert.Equal(0, graph.Initializers["fc3.weight"].numel() - graph.Initializers["fc3.weight"].count_nonzero().item<long>());
    }

    [Fact]
    public void Prune_keeps_first_and_last_layers_dense_at_high_sparsity_by_default_and_says_so()
    {
        using var folder = new TempFolder();
        var (code, output, error) = Invoke("prune", "lenet-300-100", "--sparsity", "0.9", "-o", folder.File("p.onnx"));
        Assert.True(code == 0, error);
        Assert.Contains("first and last layers kept dense (default for element at sparsity 0.9; --first-last prune to change)", output);
        Assert.Contains("left dense: fc1.weight: first layer", output);
        var graph = OnnxFile.Read(folder.File("p.onnx"));
        Assert.Equal(graph.Initializers["fc1.weight"].numel(), graph.Initializers["fc1.weight"].count_nonzero().item<long>());
        Assert.Equal(0.9, 1 - (double)graph.Initializers["fc2.weight"].count_nonzero().item<long>() / graph.Initializers["fc2.weight"].numel(), 2);
    }

    [Fact]
    public void Prune_with_normalize_states_the_input_and_records_it_in_the_output()
    {
        using var folder = new TempFolder();
        var (code, output, error) = Invoke("prune", "lenet-300-100", "--sparsity", "0.5", "--normalize", "0.2860/0.3530", "-o", folder.File("p.onnx"));
        Assert.True(code == 0, error);
        Assert.Contains("input: pixels scaled to [0, 1], then (x - mean) / std with mean [0.286], std [0.353] (--normalize)", output);
        var graph = OnnxFile.Read(folder.File("p.onnx"));
        Assert.Equal("0.286", graph.Metadata[PruneSharp.Data.Preprocessing.MeanKey]);
        Assert.Equal("false", graph.Metadata[PruneSharp.Data.Preprocessing.InModelKey]);
        var (bad, _, message) = Invoke("prune", "lenet-300-100", "--sparsity", "0.5", "--normalize", "0.2860", "-o", folder.File("q.onnx"));
        Assert.Equal(1, bad);
        Assert.Contains("--normalize '0.2860' is not MEAN[,MEAN...]/STD[,STD...]", message);
    }

    [Fact]
    public void Prune_with_embed_preprocessing_writes_a_model_that_normalises_raw_pixels_itself()
    {
        using var folder = new TempFolder();
        var (code, output, error) = Invoke("prune", "lenet-300-100", "--sparsity", "0.5", "--normalize", "0.2860/0.3530", "--embed-preprocessing",
            "-o", folder.File("p.onnx"));
        Assert.True(code == 0, error);
        Assert.Contains("output model: pixels scaled to [0, 1]; the model normalises them itself", output);
        var graph = OnnxFile.Read(folder.File("p.onnx"));
        Assert.Equal("true", graph.Metadata[PruneSharp.Data.Preprocessing.InModelKey]);
        var (again, _, refused) = Invoke("prune", folder.File("p.onnx"), "--sparsity", "0.5", "--normalize", "0.2860/0.3530", "--embed-preprocessing",
            "-o", folder.File("q.onnx"));
        Assert.Equal(1, again);
        Assert.Contains("the model normalises its input itself", refused);
    }

    [Fact]
    public void Prune_fine_tune_needs_data()
    {
        var (code, _, error) = Invoke("prune", "lenet-5", "--sparsity", "0.5", "--finetune-epochs", "1", "-o", "x.onnx");
        Assert.Equal(1, code);
        Assert.Contains("--finetune-epochs needs --data", error);
    }

    [Theory]
    [InlineData("--rate", "1.5", "--rate must be in (0, 1)")]
    [InlineData("--variants", "ticket,lucky", "'lucky' is not one of")]
    [InlineData("--retrain", "again", "--retrain 'again'")]
    [InlineData("--model", "model.onnx", "is not a zoo classifier")]
    [InlineData("--normalize", "0.5", "--normalize '0.5' is not MEAN[,MEAN...]/STD[,STD...]")]
    public void Lth_refuses_bad_settings(string option, string value, string message)
    {
        using var folder = new TempFolder();
        var (code, _, error) = Invoke("lth", option, value, "--out", folder.File("exp"));
        Assert.Equal(1, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public void Eval_and_train_name_missing_inputs()
    {
        var (code, _, error) = Invoke("eval", "/nonexistent/model.onnx");
        Assert.Equal(1, code);
        Assert.Contains("model file not found", error);
        (code, _, error) = Invoke("train", "--model", "no-such-net", "--data", "/nonexistent/folder", "-o", "x.onnx");
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/folder", error);
    }

    [Fact]
    public void Train_and_eval_a_language_model_on_a_text_file()
    {
        using var folder = new TempFolder();
        string text = folder.File("corpus.txt"), model = folder.File("gpt.onnx");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("In the beginning was the word, and the word was with the text. ", 60)));
        var (code, output, error) = Invoke("train", "--model", "tiny-gpt", "--data", text, "--epochs", "2", "--gpt-layers", "1", "--gpt-heads", "2",
            "--gpt-width", "16", "--context", "32", "--batch-size", "8", "--optimizer", "adamw", "--lr", "0.01", "-o", model);
        Assert.True(code == 0, error);
        Assert.Contains("held-out: perplexity", output);
        // A repeated sentence is easy to predict after two epochs: far below the 256 of a uniform byte model.
        (code, output, error) = Invoke("eval", model, "--data", text, "--context", "32", "--json");
        Assert.True(code == 0, error);
        double perplexity = System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("heldOut").GetProperty("Perplexity").GetDouble();
        Assert.InRange(perplexity, 1, 64);

        (code, _, error) = Invoke("train", "--model", "tiny-gpt", "--data", text, "--gpt-width", "30", "--gpt-heads", "4", "-o", model + "2");
        Assert.Equal(1, code);
        Assert.Contains("--gpt-width 30 is not a multiple of --gpt-heads 4", error);
        (code, _, error) = Invoke("train", "--model", "lenet-5", "--data", text, "-o", model + "2");
        Assert.Equal(1, code);
        Assert.Contains("text data needs a language model", error);
    }

    [Fact]
    public void Prune_heads_of_a_language_model_fine_tunes_on_the_text_and_reports_perplexity()
    {
        using var folder = new TempFolder();
        string text = folder.File("corpus.txt"), model = folder.File("gpt.onnx"), pruned = folder.File("gpt-heads.onnx");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("In the beginning was the word, and the word was with the text. ", 60)));
        var (code, _, error) = Invoke("train", "--model", "tiny-gpt", "--data", text, "--epochs", "2", "--gpt-layers", "1", "--gpt-heads", "4",
            "--gpt-width", "32", "--context", "32", "--batch-size", "8", "--optimizer", "adamw", "--lr", "0.01", "-o", model);
        Assert.True(code == 0, error);

        (code, var output, error) = Invoke("prune", model, "--structured", "head", "--method", "l2", "--ratio", "0.5", "--data", text,
            "--context", "32", "--finetune-epochs", "1", "--batch-size", "8", "--optimizer", "adamw", "--lr", "0.003", "--json", "-o", pruned);
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(output).RootElement;
        Assert.True(report.GetProperty("params_after").GetInt64() < report.GetProperty("dense_params").GetInt64());
        Assert.All(report.GetProperty("groups").EnumerateArray(), g => Assert.Equal((4, 2), (g.GetProperty("before").GetInt32(), g.GetProperty("after").GetInt32())));
        double after = report.GetProperty("perplexity_after").GetDouble();
        Assert.InRange(after, 1, 256);
        // The saved model is the one measured: eval gives the same held-out perplexity.
        (code, output, error) = Invoke("eval", pruned, "--data", text, "--context", "32", "--json");
        Assert.True(code == 0, error);
        Assert.Equal(after, JsonDocument.Parse(output).RootElement.GetProperty("heldOut").GetProperty("Perplexity").GetDouble(), 4);

        // Data-driven criteria observe token batches (Taylor as LLM-Pruner scores, Fisher with per-sequence losses).
        foreach (string method in new[] { "taylor", "fisher" })
        {
            (code, output, error) = Invoke("prune", model, "--structured", "head", "--method", method, "--ratio", "0.5", "--data", text,
                "--context", "32", "--json", "-o", pruned + method);
            Assert.True(code == 0, error);
            Assert.All(JsonDocument.Parse(output).RootElement.GetProperty("groups").EnumerateArray(), g => Assert.Equal(2, g.GetProperty("after").GetInt32()));
        }
        // Depth: residual blocks scored on training sequences (ShortGPT's influence), perplexity before and after.
        (code, output, error) = Invoke("prune", model, "--structured", "block", "--method", "influence", "--blocks", "1", "--data", text,
            "--context", "32", "--json", "-o", pruned + "block");
        Assert.True(code == 0, error);
        report = JsonDocument.Parse(output).RootElement;
        Assert.Equal(1, report.GetProperty("blocks").EnumerateArray().Count(b => b.GetProperty("removed").GetBoolean()));
        Assert.True(report.GetProperty("perplexity_after").GetDouble() >= 1);

        // Unstructured: masks, a fine-tune with the masks kept, perplexity before and after.
        (code, output, error) = Invoke("prune", model, "--sparsity", "0.5", "--data", text, "--context", "32", "--finetune-epochs", "1",
            "--batch-size", "8", "--optimizer", "adamw", "--lr", "0.003", "--json", "-o", pruned + "2");
        Assert.True(code == 0, error);
        report = JsonDocument.Parse(output).RootElement;
        Assert.InRange(report.GetProperty("perplexity_after").GetDouble(), 1, 256);
        Assert.All(report.GetProperty("layers").EnumerateArray(), l => Assert.InRange(l.GetProperty("sparsity").GetDouble(), 0.3, 0.7));
        var saved = OnnxFile.Read(pruned + "2").Initializers["blocks.0.mlp.fc.weight"];
        Assert.InRange(saved.eq(0).sum().item<long>() / (double)saved.numel(), 0.3, 0.7);
        (code, output, error) = Invoke("prune", model, "--sparsity", "0.5", "--schedule", "gradual", "--finetune-epochs", "1", "--data", text,
            "--context", "32", "--batch-size", "8", "--json", "-o", pruned + "3");
        Assert.True(code == 0, error);
        Assert.All(JsonDocument.Parse(output).RootElement.GetProperty("layers").EnumerateArray(), l => Assert.InRange(l.GetProperty("sparsity").GetDouble(), 0.3, 0.7));
    }

    [Fact]
    public void An_untied_language_model_loses_width_with_approximate_channel_pruning()
    {
        using var folder = new TempFolder();
        string text = folder.File("corpus.txt"), model = folder.File("gpt.onnx"), pruned = folder.File("gpt-narrow.onnx");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("And the evening and the morning were the first day. ", 60)));
        var (code, _, error) = Invoke("train", "--model", "tiny-gpt", "--data", text, "--epochs", "1", "--gpt-layers", "1", "--gpt-heads", "2",
            "--gpt-width", "16", "--gpt-untied", "--context", "32", "--batch-size", "8", "--optimizer", "adamw", "--lr", "0.01", "-o", model);
        Assert.True(code == 0, error);
        Assert.True(OnnxFile.Read(model).Initializers.ContainsKey("head.weight"));

        (code, var output, error) = Invoke("prune", model, "--structured", "channel", "--approximate", "--ratio", "0.5", "--data", text,
            "--context", "32", "--finetune-epochs", "1", "--batch-size", "8", "--optimizer", "adamw", "--lr", "0.003", "--json", "-o", pruned);
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(output).RootElement;
        var width = report.GetProperty("groups").EnumerateArray().Single(g => !g.GetProperty("exact").GetBoolean());
        Assert.Equal((16, 8), (width.GetProperty("before").GetInt32(), width.GetProperty("after").GetInt32()));
        Assert.InRange(report.GetProperty("perplexity_after").GetDouble(), 1, 256);
        Assert.Equal(new long[] { 256, 8 }, OnnxFile.Read(pruned).Initializers["wte.weight"].shape);
    }

    [Fact]
    public void Augment_flag_is_parsed_or_refused()
    {
        Assert.Null(PruneSharp.Data.Augmentation.Parse("none"));
        Assert.Equal(new PruneSharp.Data.Augmentation(2, true), PruneSharp.Data.Augmentation.Parse("crop:2,flip"));
        Assert.Equal(new PruneSharp.Data.Augmentation(0, true), PruneSharp.Data.Augmentation.Parse("flip"));
        var error = Assert.Throws<ArgumentException>(() => PruneSharp.Data.Augmentation.Parse("crop:-1"));
        Assert.Contains("'crop:-1'", error.Message);
    }

    static string SaveTinyGpt(TempFolder folder)
    {
        using var model = TinyGpt.Create(new TinyGptOptions(VocabularySize: 40, ContextLength: 16, Layers: 2, Heads: 4, Width: 32, Seed: 1));
        string path = folder.File("gpt.onnx");
        OnnxFile.Save(model, path);
        return path;
    }

    [Fact]
    public void Prune_structured_head_removes_attention_heads_and_reports_them()
    {
        using var folder = new TempFolder();
        var (code, output, error) = Invoke("prune", SaveTinyGpt(folder), "--structured", "head", "--method", "l1", "--ratio", "0.5", "--json", "-o", folder.File("heads.onnx"));
        Assert.True(code == 0, error);
        var groups = JsonDocument.Parse(output).RootElement.GetProperty("groups").EnumerateArray().ToList();
        Assert.Equal(2, groups.Count); // the attention layers only
        Assert.All(groups, g => Assert.Equal((4, 2), (g.GetProperty("before").GetInt32(), g.GetProperty("after").GetInt32())));
        var graph = OnnxFile.Read(folder.File("heads.onnx"));
        Assert.Equal(new long[] { 32, 16 }, graph.Initializers["blocks.1.attn.k.weight"].shape);
        Assert.Equal(new long[] { 16, 32 }, graph.Initializers["blocks.1.attn.o.weight"].shape);

        // An exporter's block: the head reshapes' computed targets are folded on load.
        string exported = Path.Combine(AppContext.BaseDirectory, "Pruning", "Structured", "Fixtures", "transformer_block.onnx");
        (code, output, error) = Invoke("prune", exported, "--structured", "head", "--ratio", "0.25", "--json", "-o", folder.File("exported.onnx"));
        Assert.True(code == 0, error);
        var group = Assert.Single(JsonDocument.Parse(output).RootElement.GetProperty("groups").EnumerateArray());
        Assert.Equal((4, 3), (group.GetProperty("before").GetInt32(), group.GetProperty("after").GetInt32()));

        (code, _, error) = Invoke("prune", "lenet-5", "--structured", "head", "-o", folder.File("x.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("no attention heads", error);
    }

    [Fact]
    public void Prune_structured_channel_prunes_the_hidden_size_only_with_approximate()
    {
        using var folder = new TempFolder();
        string model = folder.File("untied.onnx");
        using (var gpt = TinyGpt.Create(new TinyGptOptions(VocabularySize: 40, ContextLength: 16, Layers: 1, Heads: 2, Width: 16, TiedHead: false, Seed: 1)))
            OnnxFile.Save(gpt, model);
        int HiddenAfter(string output) => JsonDocument.Parse(output).RootElement.GetProperty("groups").EnumerateArray()
            .Single(g => !g.GetProperty("exact").GetBoolean()).GetProperty("after").GetInt32();

        var (code, output, error) = Invoke("prune", model, "--structured", "channel", "--ratio", "0.5", "--json", "-o", folder.File("exact.onnx"));
        Assert.True(code == 0, error);
        Assert.Equal(16, HiddenAfter(output));
        (code, output, error) = Invoke("prune", model, "--structured", "channel", "--ratio", "0.5", "--approximate", "--aggregate", "max",
            "--include-readers", "--json", "-o", folder.File("narrow.onnx"));
        Assert.True(code == 0, error);
        Assert.Equal(8, HiddenAfter(output));
        Assert.Equal(new long[] { 40, 8 }, OnnxFile.Read(folder.File("narrow.onnx")).Initializers["wte.weight"].shape);

        (code, _, error) = Invoke("prune", model, "--structured", "channel", "--schedule", "cosine", "-o", folder.File("x.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("--lr-schedule", error);
        (code, _, error) = Invoke("prune", model, "--structured", "channel", "--aggregate", "median", "-o", folder.File("x.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("--aggregate 'median' is not one of sum, mean, max, first", error);
        (code, _, error) = Invoke("prune", model, "--structured", "channel", "--method", "fpgm", "--include-readers", "-o", folder.File("x.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("apply to --method l1 and l2", error);
    }

    [Fact]
    public void Prune_structured_block_removes_the_requested_number_of_residual_blocks()
    {
        using var folder = new TempFolder();
        var (code, output, error) = Invoke("prune", "resnet-20", "--structured", "block", "--blocks", "2", "--json", "-o", folder.File("shallow.onnx"));
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(output).RootElement;
        var blocks = report.GetProperty("blocks").EnumerateArray().ToList();
        Assert.Equal(7, blocks.Count);
        Assert.Equal(2, blocks.Count(b => b.GetProperty("removed").GetBoolean()));
        Assert.True(report.GetProperty("macs_after").GetInt64() < report.GetProperty("dense_macs").GetInt64());
        var graph = OnnxFile.Read(folder.File("shallow.onnx"));
        Assert.Equal(9 - 2, graph.Nodes.Count(n => n.OpType == "Add"));

        (code, _, error) = Invoke("prune", "resnet-20", "--structured", "block", "--blocks", "8", "-o", folder.File("x.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("only 7 removable residual blocks", error);
        (code, _, error) = Invoke("prune", "resnet-20", "--structured", "depth", "-o", folder.File("x.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("is not one of channel, head, block", error);
    }

    [Fact]
    public void Inspect_structure_lists_channel_groups_attention_heads_and_residual_blocks()
    {
        using var folder = new TempFolder();
        var (code, output, error) = Invoke("inspect", SaveTinyGpt(folder), "--structure", "--json");
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(output).RootElement;
        var attention = report.GetProperty("attention").EnumerateArray().ToList();
        Assert.Equal(2, attention.Count);
        Assert.All(attention, a => Assert.Equal((4, 8), (a.GetProperty("heads").GetInt32(), a.GetProperty("head_size").GetInt32())));
        Assert.Equal(new[] { "blocks.0.residual1", "blocks.0.residual2", "blocks.1.residual1", "blocks.1.residual2" },
            report.GetProperty("residual_blocks").EnumerateArray().Select(b => b.GetProperty("add").GetString()));
        // The MLP widths are channel groups; the residual stream is left out (it reaches the tied head), with the reason.
        var groups = report.GetProperty("channel_groups").EnumerateArray().ToList();
        Assert.Equal(2, groups.Count);
        Assert.All(groups, g => Assert.Equal(4 * 32, g.GetProperty("channels").GetInt32()));
        Assert.Contains(report.GetProperty("left_out").EnumerateArray(),
            b => b.GetProperty("reasons").EnumerateArray().Any(r => r.GetString()!.Contains("'head' (MatMul)")));
    }
}
