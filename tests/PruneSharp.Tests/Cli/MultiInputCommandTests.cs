using System.CommandLine;
using PruneSharp.Cli.Commands;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Cli;

/// <summary>check, inspect, prune and eval on a 3-input BERT-like encoder (<see cref="MultiInputModel"/>), with no data.</summary>
[Collection(SerialCollection.Name)]
public class MultiInputCommandTests
{
    static (int Code, string Output, string Error) Invoke(params string[] args)
    {
        var root = new RootCommand("test") { CheckCommand.Create(), EvalCommand.Create(), PruneCommand.Create(), InspectCommand.Create() };
        return CliInvocation.Run(root, args);
    }

    static string Encoder(TempFolder folder)
    {
        string path = folder.File("encoder.onnx");
        OnnxFile.Write(MultiInputModel.Build(), path);
        return path;
    }

    [Fact]
    public void Check_synthesises_every_input_from_the_graph()
    {
        using var folder = new TempFolder();
        string model = Encoder(folder);
        var (code, output, error) = Invoke("check", model, "--samples", "2");
        Assert.True(code == 0, error + output);
        Assert.Contains("input_ids 1x16 (indexes the 7-row table 'word.weight')", output);
        Assert.Contains("token_type_ids 1x16 (indexes the 2-row table 'type.weight')", output);
        Assert.Contains("attention_mask 1x16 (named as a mask", output);

        (code, output, error) = Invoke("check", model, "--shape", "input_ids=2x5");
        Assert.True(code == 0, error + output);
        Assert.Contains("attention_mask 2x5", output);
        (code, output, _) = Invoke("check", model, "--input-shape", "input_ids=3x4");
        Assert.Contains("token_type_ids 3x4", output);

        NpyFile.Write(folder.File("ids.npy"), tensor(new long[] { 1, 6, 2 }).reshape(1, 3));
        (code, output, error) = Invoke("check", model, "--input", $"input_ids={folder.File("ids.npy")}");
        Assert.True(code == 0, error + output);
        Assert.Contains("input_ids 1x3 (given)", output);
        Assert.Contains("attention_mask 1x3", output);

        (code, _, error) = Invoke("check", model, "--shape", "ids=1x4");
        Assert.Equal(1, code);
        Assert.Contains("'ids' is not an input of the model (inputs: input_ids, attention_mask, token_type_ids)", error);
    }

    [Fact]
    public void Inspect_structure_and_prune_run_without_data()
    {
        using var folder = new TempFolder();
        string model = Encoder(folder);
        var (code, output, error) = Invoke("inspect", model, "--structure", "--shape", "input_ids=1x8");
        Assert.True(code == 0, error + output);
        Assert.Contains("ffn.up", output);

        (code, output, error) = Invoke("prune", model, "--structured", "channel", "--ratio", "0.5", "-o", folder.File("channels.onnx"));
        Assert.True(code == 0, error + output);
        (code, output, error) = Invoke("prune", model, "--sparsity", "0.5", "-o", folder.File("sparse.onnx"));
        Assert.True(code == 0, error + output);
        foreach (string pruned in new[] { "channels.onnx", "sparse.onnx" })
        {
            (code, output, error) = Invoke("check", folder.File(pruned));
            Assert.True(code == 0, pruned + error + output);
        }
        var graph = OnnxFile.Read(folder.File("channels.onnx"));
        Assert.Equal(8, graph.Initializers["ffn.up.weight"].shape[1]);
    }

    [Fact]
    public void Eval_refuses_perplexity_on_hidden_states_and_accuracy_on_other_scores()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("corpus.txt"), string.Concat(Enumerable.Repeat("In the beginning was the word. ", 40)));
        var (code, output, error) = Invoke("eval", Encoder(folder), "--data", folder.File("corpus.txt"), "--context", "16");
        Assert.Equal(1, code);
        Assert.Contains("cannot measure perplexity: input 'input_ids' indexes the 7-row table 'word.weight', the tokenizer has 256 tokens: not the model's tokenizer", error);

        string model = folder.File("wide.onnx");
        OnnxFile.Write(MultiInputModel.Build(vocabulary: 300), model);
        (code, output, error) = Invoke("eval", model, "--data", folder.File("corpus.txt"), "--context", "16");
        Assert.Equal(1, code);
        Assert.Contains("cannot measure perplexity: output 'last_hidden_state' is 8 wide, the tokenizer has 256 tokens: not vocabulary logits", error);
        Assert.Contains("--reference", error);
        Assert.DoesNotContain("perplexity", output);

        // A 7-way head on 10-class labels.
        var b = new GraphBuilder("seven");
        b.Output(b.Linear(b.Flatten(b.Input("input", null, 1, 4, 4)), 7, "fc"), "scores");
        OnnxFile.Write(b.Graph, folder.File("seven.onnx"));
        Directory.CreateDirectory(folder.File("digits"));
        WriteIdx(folder.File("digits"), 5, 4);
        (code, _, error) = Invoke("eval", folder.File("seven.onnx"), "--data", folder.File("digits"));
        Assert.Equal(1, code);
        Assert.Contains("cannot measure accuracy: output 'scores' has 7 scores per example, the labels have 10 classes", error);
    }

    /// <summary>A test split of <paramref name="count"/> grey <paramref name="size"/>² images with labels 0..count-1, as IDX files.</summary>
    static void WriteIdx(string folder, int count, int size)
    {
        static byte[] BigEndian(params int[] values) => values.SelectMany(v => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v }).ToArray();
        File.WriteAllBytes(Path.Combine(folder, "t10k-images-idx3-ubyte"), [.. BigEndian(0x803, count, size, size), .. new byte[count * size * size]]);
        File.WriteAllBytes(Path.Combine(folder, "t10k-labels-idx1-ubyte"), [.. BigEndian(0x801, count), .. Enumerable.Range(0, count).Select(i => (byte)i)]);
        File.WriteAllBytes(Path.Combine(folder, "train-images-idx3-ubyte"), [.. BigEndian(0x803, count, size, size), .. new byte[count * size * size]]);
        File.WriteAllBytes(Path.Combine(folder, "train-labels-idx1-ubyte"), [.. BigEndian(0x801, count), .. Enumerable.Range(0, count).Select(i => (byte)i)]);
    }

    [Fact]
    public void Eval_reads_image_folders_at_the_given_size_and_refuses_accuracy_without_labels()
    {
        using var folder = new TempFolder();
        var b = new GraphBuilder("two");
        b.Output(b.Linear(b.Flatten(b.Input("input", null, 3, 8, 8)), 2, "fc"), "scores");
        OnnxFile.Write(b.Graph, folder.File("two.onnx"));
        foreach (string name in new[] { "cat", "dog" })
        {
            Directory.CreateDirectory(folder.File("labeled", name));
            WritePng(folder.File("labeled", name, "1.png"), 12, 10);
        }
        Directory.CreateDirectory(folder.File("unlabeled"));
        WritePng(folder.File("unlabeled", "1.png"), 12, 10);

        var (code, output, error) = Invoke("eval", folder.File("two.onnx"), "--data", folder.File("labeled"), "--resize", "10", "--crop", "8");
        Assert.True(code == 0, error + output);
        Assert.Contains("images resized (shorter side 10) and centre-cropped to 8x8", output);
        Assert.Contains("(2 examples)", output);
        (code, _, error) = Invoke("eval", folder.File("two.onnx"), "--data", folder.File("labeled"));
        Assert.Equal(1, code);
        Assert.Contains("is an image folder: give the model's input size with --crop N", error);
        (code, _, error) = Invoke("eval", folder.File("two.onnx"), "--data", folder.File("unlabeled"), "--crop", "8");
        Assert.Equal(1, code);
        Assert.Contains("has no class sub-folders, so no labels", error);
    }

    static void WritePng(string path, int width, int height)
    {
        using var bitmap = new SkiaSharp.SKBitmap(width, height);
        bitmap.Erase(new SkiaSharp.SKColor(200, 100, 50));
        using var image = SkiaSharp.SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, png.ToArray());
    }

    [Fact]
    public void Prune_structured_reads_unlabeled_text_and_arrays_for_calibration_and_apoz()
    {
        using var folder = new TempFolder();
        string model = folder.File("encoder16.onnx");
        OnnxFile.Write(MultiInputModel.Build(vocabulary: 16), model);
        File.WriteAllLines(folder.File("vocab.txt"), new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##able", "runn", "##ing", ",", "!", "cafe", "hello", "##s" });
        File.WriteAllLines(folder.File("sentences.txt"), Enumerable.Range(0, 12).Select(i => i % 2 == 0 ? "the cafe, hello!" : "unaffable running hellos"));
        var (code, output, error) = Invoke("prune", model, "--structured", "channel", "--method", "apoz", "--calibration", "8", "--ratio", "0.5",
            "--data", folder.File("sentences.txt"), "--tokenizer", $"wordpiece:{folder.File("vocab.txt")}", "--context", "8", "-o", folder.File("text.onnx"));
        Assert.True(code == 0, error + output);
        Assert.Contains("data: 12 unlabeled examples of input_ids, attention_mask, token_type_ids", output);
        Assert.Equal(8, OnnxFile.Read(folder.File("text.onnx")).Initializers["ffn.up.weight"].shape[1]);

        NpyFile.Write(folder.File("ids.npy"), randint(0, 16, new long[] { 5, 6 }));
        (code, output, error) = Invoke("prune", model, "--structured", "channel", "--method", "apoz", "--data", folder.File("ids.npy"), "-o", folder.File("arrays.onnx"));
        Assert.True(code == 0, error + output);
        Assert.Contains("data: 5 unlabeled examples of input_ids", output);

        (code, output, error) = Invoke("prune", model, "--structured", "channel", "--data", folder.File("sentences.txt"), "--tokenizer", $"wordpiece:{folder.File("vocab.txt")}",
            "--context", "8", "--recover", "distill", "--finetune-epochs", "1", "-o", folder.File("distilled.onnx"));
        Assert.True(code == 0, error + output);
        Assert.Contains("distilled from the dense model: last_hidden_state", output);
        (code, output, error) = Invoke("eval", folder.File("distilled.onnx"), "--reference", model, "--data", folder.File("sentences.txt"),
            "--tokenizer", $"wordpiece:{folder.File("vocab.txt")}", "--context", "8");
        Assert.True(code == 0, error + output);
        Assert.Contains("on 12 unlabeled inputs (labels unused)", output);
        Assert.Contains("last_hidden_state", output);
        Assert.DoesNotContain("pixels", output); // token ids are not images: no preprocessing line
        (code, _, error) = Invoke("prune", model, "--structured", "channel", "--data", folder.File("ids.npy"), "--finetune-epochs", "1", "-o", folder.File("f.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("has no labels", error);

        (code, _, error) = Invoke("prune", model, "--structured", "channel", "--method", "taylor", "--data", folder.File("ids.npy"), "-o", folder.File("t.onnx"));
        Assert.Equal(1, code);
        Assert.Contains("need labels", error);
        (code, _, error) = Invoke("eval", model, "--data", folder.File("sentences.txt"), "--tokenizer", $"wordpiece:{folder.File("vocab.txt")}");
        Assert.Equal(1, code);
        Assert.Contains("output 'last_hidden_state' is 8 wide, the tokenizer has 16 tokens: not vocabulary logits", error);
    }
}
