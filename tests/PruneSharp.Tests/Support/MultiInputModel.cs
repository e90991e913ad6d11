using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Support;

/// <summary>
/// A tiny BERT-like encoder with the three inputs of a PyTorch export (input_ids, attention_mask, token_type_ids, all
/// int64 [batch, sequence]): word ids reach a 7-row table through a Cast, token types a 2-row table, positions are the
/// leading rows of a 16-row table, the mask enters as <c>(1 - mask) * -10000</c> through Unsqueeze and Cast, and the
/// output <c>last_hidden_state</c> is 8 wide (hidden states, not vocabulary logits).
/// </summary>
public static class MultiInputModel
{
    public const long Vocabulary = 7, Types = 2, Positions = 16, Hidden = 8;

    public static PruneSharp.Graph.Graph Build(long seed = 0, long vocabulary = Vocabulary)
    {
        var b = new GraphBuilder("tiny-encoder", seed);
        var ids = b.Int64Input("input_ids", null, null);
        b.Int64Input("attention_mask", null, null);
        var types = b.Int64Input("token_type_ids", null, null);
        var graph = b.Graph;
        // Names follow the builder's dimension naming, so that the three inputs share their symbols as an exporter's do.
        for (int i = 0; i < 3; i++) graph.Inputs[i] = graph.Inputs[i] with { Shape = new[] { Dim.Named("batch"), Dim.Named("sequence") } };
        graph.Nodes.Add(new Node("ids.cast", "Cast", new[] { "input_ids" }, new[] { "ids.cast" }, new Dictionary<string, AttributeValue> { ["to"] = AttributeValue.FromInt((long)DataType.Int64) }));
        var word = b.Embedding(new GraphBuilder.Value("ids.cast", new long?[] { null, null }), vocabulary, Hidden, "word");
        var type = b.Embedding(types, Types, Hidden, "type");
        var position = b.LeadingRows(ids, 1, Positions, Hidden, "position");
        var hidden = b.Add(b.Add(word, type), position);
        graph.Initializers["mask.axes"] = tensor(new long[] { 2 });
        graph.Initializers["mask.one"] = tensor(1f);
        graph.Initializers["mask.scale"] = tensor(-10000f);
        graph.Nodes.Add(new Node("mask.unsqueeze", "Unsqueeze", new[] { "attention_mask", "mask.axes" }, new[] { "mask.unsqueeze" }));
        graph.Nodes.Add(new Node("mask.cast", "Cast", new[] { "mask.unsqueeze" }, new[] { "mask.cast" }, new Dictionary<string, AttributeValue> { ["to"] = AttributeValue.FromInt((long)DataType.Float) }));
        graph.Nodes.Add(new Node("mask.sub", "Sub", new[] { "mask.one", "mask.cast" }, new[] { "mask.sub" }));
        graph.Nodes.Add(new Node("mask.bias", "Mul", new[] { "mask.sub", "mask.scale" }, new[] { "mask.bias" }));
        var masked = b.Add(hidden, new GraphBuilder.Value("mask.bias", new long?[] { null, null, 1 }), "masked");
        var normed = b.LayerNorm(masked, "norm");
        var up = b.Relu(b.Linear(normed, 16, "ffn.up"));
        var output = b.Linear(up, Hidden, "ffn.down");
        b.Output(output, "last_hidden_state");
        return graph;
    }
}
