using System.CommandLine;
using PruneSharp.Cli.Commands;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Cli;

/// <summary>prune --structured on an exported encoder with three inputs and dynamic axes, without data.</summary>
[Collection(SerialCollection.Name)]
public class EncoderCommandTests
{
    static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Pruning", "Structured", "Fixtures", "bert_tiny_opset14.onnx");

    static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { PruneCommand.Create() }, args);

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
}
