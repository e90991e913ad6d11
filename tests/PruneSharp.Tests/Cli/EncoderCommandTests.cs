using System.CommandLine;
using System.Text.Json;
using PruneSharp.Cli.Commands;
using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Cli;

/// <summary>prune --structured on an exported encoder with three inputs and dynamic axes, without data.</summary>
[Collection(SerialCollection.Name)]
public class EncoderCommandTests
{
    static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Pruning", "Structured", "Fixtures");
    static readonly string Fixture = Path.Combine(Fixtures, "bert_tiny_opset14.onnx");
    static readonly string Vocabulary = Path.Combine(Fixtures, "vocab.txt");

    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { PruneCommand.Create() }, args);

    /// <summary>Runs prune with <paramref name="args"/> and asserts that it exits with 1 and an error containing <paramref name="message"/>.</summary>
    static void Refused(string message, params string[] args)
    {
        var (code, _, error) = Invoke(["prune", .. args]);
        Assert.Equal(1, code);
        Assert.Contains(message, error);
    }

    [Fact]
    public void Heads_then_ffn_width_of_a_three_input_encoder_prune_without_data_and_keep_its_inputs()
    {
        using var folder = new TempFolder();
        var (code, output, error) = Invoke("prune", Fixture, "--structured", "head", "--method", "l2", "--ratio", "0.25", "-o", folder.File("heads.onnx"));
        Assert.True(code == 0, error);
        Assert.Contains("/layers.0/query/MatMul", output);
        (code, _, error) = Invoke("prune", folder.File("heads.onnx"), "--structured", "channel", "--method", "l2", "--ratio", "0.5", "-o", folder.File("ffn.onnx"));
        Assert.True(code == 0, error);
        var graph = OnnxFile.Read(folder.File("ffn.onnx"));
        Assert.Equal(new[] { "input_ids", "attention_mask", "token_type_ids" }, graph.Inputs.Select(i => i.Name));
        Assert.Equal(14, graph.Opset);
        Assert.Equal(new long[] { 32, 64 }, graph.Initializers[graph.Nodes.Single(n => n.Name == "/layers.0/intermediate/MatMul").Inputs[1]].shape);
        Assert.Equal(new long[] { 32, 24 }, graph.Initializers[graph.Nodes.Single(n => n.Name == "/layers.0/query/MatMul").Inputs[1]].shape);
    }

    [Fact]
    public void Heads_and_ffn_width_in_one_run_give_a_model_onnx_runtime_runs_at_the_pruned_widths()
    {
        using var folder = new TempFolder();
        var (code, output, error) = Invoke("prune", Fixture, "--structured", "head", "--ratio", "0.25", "--ffn-ratio", "0.5", "-o", folder.File("both.onnx"));
        Assert.True(code == 0, error);
        Assert.Contains("/layers.1/intermediate/MatMul", output); // the FFN groups are listed beside the heads
        Assert.Contains("--hidden-ratio R --approximate removes them", output);
        var graph = OnnxFile.Read(folder.File("both.onnx"));
        long[] Weight(string node) => graph.Initializers[graph.Nodes.Single(n => n.Name == node).Inputs[1]].shape;
        for (int layer = 0; layer < 2; layer++)
        {
            Assert.Equal(new long[] { 32, 24 }, Weight($"/layers.{layer}/query/MatMul")); // 3 of 4 heads of 8
            Assert.Equal(new long[] { 24, 32 }, Weight($"/layers.{layer}/attention_output/MatMul"));
            Assert.Equal(new long[] { 32, 64 }, Weight($"/layers.{layer}/intermediate/MatMul")); // half of 128
            Assert.Equal(new long[] { 64, 32 }, Weight($"/layers.{layer}/output/MatMul"));
        }

        // ONNX Runtime runs the file at another batch and length than the sample it was pruned on (dynamic axes kept),
        // and agrees with PruneSharp's executor of the same file.
        var ids = tensor(new long[] { 2, 40, 41, 42, 43, 3, 0, 2, 50, 51, 3, 0, 0, 0 }).reshape(2, 7);
        var inputs = new Dictionary<string, Tensor> { ["input_ids"] = ids, ["attention_mask"] = ids.ne(0).to_type(ScalarType.Int64), ["token_type_ids"] = zeros_like(ids) };
        using var runner = new OnnxRuntimeRunner(folder.File("both.onnx"));
        var outputs = runner.Run(inputs);
        Assert.Equal(new long[] { 2, 7, 32 }, outputs["last_hidden_state"].shape);
        Assert.Equal(new long[] { 2, 32 }, outputs["sentence_embedding"].shape);
        using var module = OnnxFile.Load(folder.File("both.onnx"));
        using var noGrad = no_grad();
        var ours = module.Run(module.InputNames.Select(n => inputs[n]).ToArray());
        Assert.True(ours[0].allclose(outputs["last_hidden_state"], rtol: 1e-4, atol: 1e-4));
        Assert.True(ours[1].allclose(outputs["sentence_embedding"], rtol: 1e-4, atol: 1e-4));

        // The hidden size at its own ratio: the outputs narrow (32 -> 24), only with --approximate.
        Refused("--hidden-ratio needs --approximate", Fixture, "--structured", "head", "--ratio", "0.25", "--ffn-ratio", "0.5", "--hidden-ratio", "0.25", "-o", folder.File("h.onnx"));
        (code, _, error) = Invoke("prune", Fixture, "--structured", "head", "--ratio", "0.25", "--ffn-ratio", "0.5", "--hidden-ratio", "0.25", "--approximate", "-o", folder.File("hidden.onnx"));
        Assert.True(code == 0, error);
        using var narrow = new OnnxRuntimeRunner(folder.File("hidden.onnx"));
        var narrowed = narrow.Run(inputs);
        Assert.Equal(new long[] { 2, 7, 24 }, narrowed["last_hidden_state"].shape);
        Assert.Equal(new long[] { 2, 24 }, narrowed["sentence_embedding"].shape);
        var hidden = OnnxFile.Read(folder.File("hidden.onnx"));
        Assert.Equal(new long[] { 24, 64 }, hidden.Initializers[hidden.Nodes.Single(n => n.Name == "/layers.0/intermediate/MatMul").Inputs[1]].shape);

        Refused("--ffn-ratio goes with --structured head", Fixture, "--structured", "channel", "--ffn-ratio", "0.5", "-o", folder.File("c.onnx"));
        Refused("--ffn-ratio must be in [0, 1), got 1.5", Fixture, "--structured", "head", "--ffn-ratio", "1.5", "-o", folder.File("r.onnx"));
    }

    [Fact]
    public void Distilling_heads_and_ffn_pruned_encoder_on_sentences_lowers_the_teacher_student_loss()
    {
        using var folder = new TempFolder();
        File.WriteAllLines(folder.File("sentences.txt"), File.ReadLines(Path.Combine(Fixtures, "bert_encoder_sentences.txt")).Take(48));
        var (code, output, error) = Invoke("prune", Fixture, "--structured", "head", "--ratio", "0.5", "--ffn-ratio", "0.5",
            "--data", folder.File("sentences.txt"), "--tokenizer", $"wordpiece:{Vocabulary}", "--context", "24",
            "--recover", "distill", "--finetune-epochs", "3", "--batch-size", "16", "--optimizer", "adamw", "--lr", "0.003", "--json", "-o", folder.File("distilled.onnx"));
        Assert.True(code == 0, error + output);
        var report = JsonDocument.Parse(output).RootElement.GetProperty("input");
        Assert.StartsWith("48 unlabeled examples of input_ids, attention_mask, token_type_ids", report.GetProperty("data").GetString());
        var distillation = report.GetProperty("distillation")[0];
        Assert.Equal(new[] { "last_hidden_state", "sentence_embedding" }, distillation.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));
        double before = distillation.GetProperty("loss_before").GetDouble(), after = distillation.GetProperty("loss_after").GetDouble();
        Assert.True(before > 0 && after < before, $"teacher-student loss {before} -> {after}");

        Refused("--hidden-ratio narrows the outputs", Fixture, "--structured", "head", "--hidden-ratio", "0.25", "--approximate", "--data", folder.File("sentences.txt"),
            "--tokenizer", $"wordpiece:{Vocabulary}", "--recover", "distill", "--finetune-epochs", "1", "-o", folder.File("x.onnx"));
    }

    [Fact]
    public void Unstructured_pruning_on_sentences_distils_and_reports_fidelity_before_and_after_and_refuses_gradient_criteria()
    {
        using var folder = new TempFolder();
        File.WriteAllLines(folder.File("sentences.txt"), File.ReadLines(Path.Combine(Fixtures, "bert_encoder_sentences.txt")).Take(32));
        string[] data = ["--data", folder.File("sentences.txt"), "--tokenizer", $"wordpiece:{Vocabulary}", "--context", "24"];
        var (code, output, error) = Invoke(["prune", Fixture, "--sparsity", "0.5", .. data, "--recover", "distill", "--finetune-epochs", "2", "--batch-size", "16",
            "--optimizer", "adamw", "--lr", "0.003", "--json", "-o", folder.File("sparse.onnx")]);
        Assert.True(code == 0, error + output);
        var report = JsonDocument.Parse(output).RootElement;
        Assert.All(report.GetProperty("layers").EnumerateArray(), l => Assert.Equal(0.5, l.GetProperty("sparsity").GetDouble(), 6));
        var choices = report.GetProperty("choices");
        Assert.StartsWith("32 unlabeled examples of input_ids, attention_mask, token_type_ids", choices.GetProperty("data").GetString());
        var outputs = choices.GetProperty("fidelity").GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(new[] { "last_hidden_state", "sentence_embedding" }, outputs.Select(o => o.GetProperty("name").GetString()));
        Assert.All(outputs, o => Assert.True(o.GetProperty("cosine_after").GetDouble() >= o.GetProperty("cosine_before").GetDouble()));
        // The written file holds the zeros: ONNX Runtime runs it, and it is as sparse as reported.
        var graph = OnnxFile.Read(folder.File("sparse.onnx"));
        var ffn = graph.Initializers[graph.Nodes.Single(n => n.Name == "/layers.0/intermediate/MatMul").Inputs[1]];
        Assert.Equal(ffn.numel() / 2, ffn.eq(0).sum().item<long>());

        Refused("--method taylor scores weights with the gradients of a loss", [Fixture, "--sparsity", "0.5", "--method", "taylor", .. data, "-o", folder.File("t.onnx")]);
        Refused("has no labels, so fine-tuning cannot use them", [Fixture, "--sparsity", "0.5", .. data, "--finetune-epochs", "1", "-o", folder.File("f.onnx")]);
        Refused("one-shot pruning", [Fixture, "--sparsity", "0.5", "--schedule", "iterative:2", .. data, "-o", folder.File("i.onnx")]);
    }

    [Fact]
    public void Sentences_feed_the_three_inputs_ids_a_mask_of_ones_up_to_the_padding_and_zero_token_types()
    {
        using var folder = new TempFolder();
        File.WriteAllLines(folder.File("sentences.txt"), new[] { "In the beginning God created the heaven and the earth.", "Jesus wept." });
        var tokenizer = WordPieceTokenizer.FromVocabulary(Vocabulary);
        var text = TokenizedText.Load(folder.File("sentences.txt"), tokenizer, 16);
        var graph = OnnxFile.Read(Fixture);
        var inputs = new GraphFeed(graph, text).Inputs(new[] { 0, 1 });
        Assert.Equal(new[] { "input_ids", "attention_mask", "token_type_ids" }, graph.Inputs.Select(i => i.Name));
        var (ids, mask, types) = (inputs[0], inputs[1], inputs[2]);
        foreach (var t in inputs)
        {
            Assert.Equal(new long[] { 2, 16 }, t.shape);
            Assert.Equal(ScalarType.Int64, t.dtype);
        }
        for (int row = 0; row < 2; row++)
        {
            var expected = tokenizer.EncodeSequence(row == 0 ? "In the beginning God created the heaven and the earth." : "Jesus wept.", 16);
            var rowIds = ids[row].data<long>().ToArray();
            var rowMask = mask[row].data<long>().ToArray();
            Assert.Equal(expected.Select(i => (long)i), rowIds.Take(expected.Length));
            Assert.Equal(tokenizer.ClassificationId, (int)rowIds[0]);
            Assert.All(rowIds.Skip(expected.Length), id => Assert.Equal(tokenizer.PaddingId, (int)id));
            Assert.All(rowMask.Take(expected.Length), m => Assert.Equal(1L, m));
            Assert.All(rowMask.Skip(expected.Length), m => Assert.Equal(0L, m));
        }
        Assert.True(types.eq(0).all().item<bool>());
        Assert.True(ids[1].eq(tokenizer.PaddingId).sum().item<long>() > 0); // the short verse is padded
    }
}
