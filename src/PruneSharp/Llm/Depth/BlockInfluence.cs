using System.Diagnostics;
using PruneSharp.Llm.Models;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Depth;

/// <summary>
/// ShortGPT's Block Influence (Men et al., 2024, "ShortGPT: Layers in Large Language Models are More Redundant Than You
/// Expect"): for decoder layer i, BI_i = 1 − E[cos(x_i, x_{i+1})], the mean over every calibration token of the cosine
/// similarity between the hidden state entering the layer and the one leaving it. A layer that barely turns its input
/// scores near 0 and is the first to go.
/// </summary>
public static class BlockInfluence
{
    /// <summary>
    /// BI of every layer of <paramref name="model"/> on <paramref name="calibration"/> windows, in one pass: the windows
    /// are embedded once, then each layer is loaded once and run over every batch, its outputs feeding the next layer.
    /// Cosines are taken in float32 per token and averaged in double.
    /// </summary>
    /// <param name="model">The dense model.</param>
    /// <param name="calibration">Token ids, int64 [windows, tokens].</param>
    /// <param name="batchSize">Windows per forward pass.</param>
    /// <param name="progress">Hears each finished layer (phase <c>influence</c>).</param>
    /// <param name="cancellation">Checked between batches.</param>
    /// <returns>BI per layer, index i for layer i.</returns>
    /// <exception cref="ArgumentException">The ids are not int64 [windows, tokens] or exceed the model's positions.</exception>
    public static double[] Compute(DecoderModel model, Tensor calibration, int batchSize = 8, IProgress<LayerProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        if (calibration.dim() != 2 || calibration.dtype != ScalarType.Int64 || calibration.numel() == 0)
            throw new ArgumentException($"calibration ids must be a non-empty int64 [windows, tokens] tensor, got {calibration.dtype} [{string.Join(", ", calibration.shape)}]", nameof(calibration));
        if (calibration.shape[1] > model.Config.MaxPositions)
            throw new ArgumentException($"calibration windows of {calibration.shape[1]} tokens exceed the model's {model.Config.MaxPositions} positions", nameof(calibration));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        using var noGrad = no_grad();
        long tokens = calibration.numel();
        var hidden = new List<Tensor>();
        try
        {
            for (long start = 0; start < calibration.shape[0]; start += batchSize)
            {
                var embedded = model.Embed(calibration.narrow(0, start, Math.Min(batchSize, calibration.shape[0] - start)));
                embedded.DetachFromDisposeScope();
                hidden.Add(embedded);
            }
            var influence = new double[model.LayerCount];
            for (int index = 0; index < model.LayerCount; index++)
            {
                var clock = Stopwatch.StartNew();
                using var layer = model.LoadLayer(index);
                double cosines = 0;
                for (int b = 0; b < hidden.Count; b++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var next = layer.Forward(hidden[b]);
                    next.DetachFromDisposeScope();
                    using (var scope = NewDisposeScope())
                        cosines += nn.functional.cosine_similarity(hidden[b], next, dim: -1).to_type(ScalarType.Float64).sum().item<double>();
                    hidden[b].Dispose();
                    hidden[b] = next;
                }
                influence[index] = 1 - cosines / tokens;
                progress?.Report(new LayerProgress("influence", index, model.LayerCount, tokens / clock.Elapsed.TotalSeconds));
            }
            return influence;
        }
        finally
        {
            foreach (var h in hidden) h.Dispose();
        }
    }

    /// <summary>
    /// The <paramref name="count"/> layers with the lowest influence, in ascending layer order. Ties go to the later
    /// layer (ShortGPT and later work find the deep layers the most redundant).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1 or not below the number of layers.</exception>
    public static int[] LowestLayers(IReadOnlyList<double> influence, int count)
    {
        if (count < 1 || count >= influence.Count)
            throw new ArgumentOutOfRangeException(nameof(count), count,
                $"the number of layers to remove must be at least 1 and below the model's {influence.Count} layers, got {count}");
        return Enumerable.Range(0, influence.Count).OrderBy(i => influence[i]).ThenByDescending(i => i).Take(count).Order().ToArray();
    }
}
