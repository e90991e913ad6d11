using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Recovery;

/// <summary>What a model's output holds, which decides how it is distilled and compared.</summary>
public enum OutputKind
{
    /// <summary>Scores over classes (a classifier's <c>[N, classes]</c>, or per position <c>[N, T, vocabulary]</c>): KL divergence, top-1 agreement.</summary>
    Logits,

    /// <summary>Features or embeddings: cosine distance and MSE, rank correlation of pairwise similarities.</summary>
    Embedding,
}

/// <summary>Tells logits from embeddings.</summary>
public static class OutputKinds
{
    /// <summary>
    /// <see cref="OutputKind.Logits"/> when the value is <c>[N, classes]</c> or <c>[N, T, classes]</c> floats made by a
    /// linear layer (Gemm, MatMul, or the Add of a bias to a MatMul's product), as a classifier's head or a language
    /// model's unembedding are (looking through Identity, Dropout and reshaping ops); anything else (pooled features, normalised or activated hidden states) is an
    /// <see cref="OutputKind.Embedding"/>. An embedding projected by a final linear layer is taken for logits: override
    /// the loss where that is wrong.
    /// </summary>
    /// <param name="graph">The model's graph.</param>
    /// <param name="value">The value's name (an output or an intermediate).</param>
    /// <param name="sample">The value computed on a batch.</param>
    public static OutputKind Of(Graph.Graph graph, string value, Tensor sample)
    {
        if (sample.dim() is not (2 or 3) || !sample.is_floating_point() || sample.shape[^1] < 2) return OutputKind.Embedding;
        var producers = graph.Nodes.SelectMany(n => n.Outputs.Select(o => (Output: o, Node: n))).Where(p => p.Output.Length > 0)
            .ToDictionary(p => p.Output, p => p.Node);
        if (!producers.TryGetValue(value, out var node)) return OutputKind.Embedding;
        while (node.OpType is "Identity" or "Dropout" or "Reshape" or "Flatten" or "Squeeze" or "Unsqueeze" && producers.TryGetValue(node.Inputs[0], out var before))
            node = before;
        bool Linear(Node n) => n.OpType is "Gemm" or "MatMul";
        return Linear(node) || node.OpType == "Add" && node.Inputs.Any(i => producers.TryGetValue(i, out var p) && Linear(p))
            ? OutputKind.Logits : OutputKind.Embedding;
    }

    /// <summary>
    /// The vectors a value is compared as: each row of <c>[N, D]</c>, each position's vector of <c>[N, T, D]</c>, each
    /// example's flattened tensor otherwise (a feature map <c>[N, C, H, W]</c>).
    /// </summary>
    public static Tensor Vectors(Tensor value) => value.dim() switch
    {
        2 => value,
        3 => value.reshape(-1, value.shape[^1]),
        _ => value.reshape(value.shape.Length == 0 ? 1 : value.shape[0], -1),
    };
}
