using static TorchSharp.torch;

namespace PruneSharp.Llm;

/// <summary>One linear layer of a checkpoint as stored.</summary>
/// <param name="Layer">Decoder layer index.</param>
/// <param name="Name">Its name inside the layer.</param>
/// <param name="OutFeatures">Rows.</param>
/// <param name="InFeatures">Columns (the reduction axis).</param>
/// <param name="Sparsity">Fraction of zeros.</param>
/// <param name="Valid2To4">Every group of 4 consecutive inputs of every row holds at most 2 non-zeros.</param>
/// <param name="Valid4To8">Every group of 8 holds at most 4.</param>
public sealed record LinearInspection(int Layer, string Name, long OutFeatures, long InFeatures, double Sparsity, bool Valid2To4, bool Valid4To8);

/// <summary>What <c>prunesharp llm inspect</c> shows of a checkpoint.</summary>
/// <param name="Description">Family, layers, widths, heads.</param>
/// <param name="Parameters">Parameter count (a tied head counted once).</param>
/// <param name="StoredType">Element type of the weights on disk.</param>
/// <param name="Files">Weight files.</param>
/// <param name="Linears">Every linear layer of every decoder layer.</param>
public sealed record CheckpointInspection(string Description, long Parameters, string StoredType, IReadOnlyList<string> Files, IReadOnlyList<LinearInspection> Linears)
{
    /// <summary>Fraction of zeros over all linear weights.</summary>
    public double Sparsity => Linears.Sum(l => l.Sparsity * l.OutFeatures * l.InFeatures) / Math.Max(1, Linears.Sum(l => (double)l.OutFeatures * l.InFeatures));

    /// <summary>Reads every decoder layer of <paramref name="folder"/> once.</summary>
    public static CheckpointInspection Of(string folder, CancellationToken cancellation = default)
    {
        using var source = LanguageModelCheckpoint.Open(folder);
        var model = source.Model;
        var linears = new List<LinearInspection>();
        for (int index = 0; index < model.LayerCount; index++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var layer = model.LoadLayer(index);
            foreach (var site in layer.Linears)
            {
                using var scope = NewDisposeScope();
                var nonZero = site.Weight.ne(0);
                double sparsity = 1 - (double)nonZero.sum().item<long>() / nonZero.numel();
                linears.Add(new LinearInspection(index, site.Name, site.OutFeatures, site.InFeatures, sparsity, KeepsAtMost(nonZero, 2, 4), KeepsAtMost(nonZero, 4, 8)));
            }
        }
        return new CheckpointInspection(model.Description, model.ParameterCount, source.Checkpoint.WeightDType.ToString(), source.Checkpoint.ShardFiles, linears);
    }

    static bool KeepsAtMost(Tensor nonZero, int n, int m) =>
        nonZero.shape[1] % m == 0 && nonZero.reshape(nonZero.shape[0], -1, m).sum(dim: 2).le(n).all().item<bool>();
}
