using PruneSharp.Graph;

namespace PruneSharp.Models;

/// <summary>Sizes of a <see cref="TinyGpt"/>.</summary>
/// <param name="VocabularySize">Number of token ids (256 for byte-level text).</param>
/// <param name="ContextLength">Longest sequence the position table covers.</param>
/// <param name="Layers">Number of transformer blocks.</param>
/// <param name="Heads">Attention heads per block.</param>
/// <param name="Width">Embedding width (a multiple of <paramref name="Heads"/>).</param>
/// <param name="TiedHead">True to reuse the token embedding as the output projection.</param>
/// <param name="Seed">Seed for weight initialisation.</param>
/// <param name="Bias">True for biases in the attention and MLP projections (GPT-2); false leaves them out (as LLaMA does).</param>
public sealed record TinyGptOptions(long VocabularySize = 256, long ContextLength = 128, int Layers = 4, int Heads = 4,
    long Width = 128, bool TiedHead = true, long Seed = 0, bool Bias = true);

/// <summary>
/// A decoder-only transformer in the GPT-2 layout (Radford et al. 2019): token and learned position embeddings,
/// pre-LayerNorm blocks of multi-head causal self-attention (separate q, k, v and output projections, so heads are
/// visible as units) and a 4× GELU MLP, a final LayerNorm and a tied or untied head producing logits [B, T, vocab].
/// </summary>
public static class TinyGpt
{
    /// <summary>Builds the model; its input is int64 token ids [batch, T] with T ≤ context length.</summary>
    public static GraphModule Create(TinyGptOptions o)
    {
        if (o.Width % o.Heads != 0) throw new ArgumentException($"width {o.Width} is not a multiple of heads {o.Heads}");
        var b = new GraphBuilder("tiny-gpt", o.Seed);
        var ids = b.Int64Input("input_ids", null, null);
        var tokens = b.Embedding(ids, o.VocabularySize, o.Width, "wte", std: 0.02f);
        var positions = b.LeadingRows(ids, 1, o.ContextLength, o.Width, "wpe", std: 0.02f);
        var h = b.Add(tokens, positions, "embed");
        for (int layer = 0; layer < o.Layers; layer++)
        {
            string name = $"blocks.{layer}";
            h = b.Add(h, Attention(b, b.LayerNorm(h, $"{name}.ln1"), o, $"{name}.attn"), $"{name}.residual1");
            var mlp = b.Linear(b.LayerNorm(h, $"{name}.ln2"), 4 * o.Width, $"{name}.mlp.fc", o.Bias);
            mlp = b.Linear(b.Gelu(mlp, $"{name}.mlp.gelu"), o.Width, $"{name}.mlp.proj", o.Bias);
            h = b.Add(h, mlp, $"{name}.residual2");
        }
        h = b.LayerNorm(h, "ln_f");
        var logits = o.TiedHead
            ? b.MatMul(h, b.Transpose(new GraphBuilder.Value("wte.weight", new long?[] { o.VocabularySize, o.Width }), new long[] { 1, 0 }, "head.tied"), "head")
            : b.Linear(h, o.VocabularySize, "head", bias: false);
        b.Output(logits, "logits");
        return b.Build();
    }

    /// <summary>Causal self-attention: heads are the unit [B, T, heads, head_dim] between the projections.</summary>
    static GraphBuilder.Value Attention(GraphBuilder b, GraphBuilder.Value x, TinyGptOptions o, string name)
    {
        long headDim = o.Width / o.Heads;
        GraphBuilder.Value Heads(string projection, long[] perm) =>
            b.Transpose(b.Reshape(b.Linear(x, o.Width, $"{name}.{projection}", o.Bias), new long[] { 0, 0, o.Heads, headDim }, $"{name}.{projection}.split"), perm, $"{name}.{projection}.heads");
        var q = Heads("q", new long[] { 0, 2, 1, 3 });    // [B, H, T, D]
        var k = Heads("k", new long[] { 0, 2, 3, 1 });    // [B, H, D, T]
        var v = Heads("v", new long[] { 0, 2, 1, 3 });    // [B, H, T, D]
        var scores = b.Scale(b.MatMul(q, k, $"{name}.scores"), 1f / MathF.Sqrt(headDim), $"{name}.scale");
        var weights = b.Softmax(b.CausalMask(scores, o.ContextLength, $"{name}.causal"), -1, $"{name}.softmax");
        var context = b.Transpose(b.MatMul(weights, v, $"{name}.context"), new long[] { 0, 2, 1, 3 }, $"{name}.merge");
        context = b.Reshape(context, new long[] { 0, 0, o.Width }, $"{name}.concat_heads");
        return b.Linear(context, o.Width, $"{name}.o", o.Bias);
    }
}
