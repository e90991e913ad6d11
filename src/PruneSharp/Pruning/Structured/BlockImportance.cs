using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>Scores residual blocks: one score per block, higher = keep.</summary>
public interface IBlockImportance
{
    /// <summary>Scores of <paramref name="blocks"/> of <paramref name="module"/>, measured on <paramref name="calibration"/> (one tensor per graph input, examples along the first axis).</summary>
    double[] Score(GraphModule module, IReadOnlyList<ResidualBlock> blocks, IReadOnlyList<Tensor> calibration);
}

/// <summary>
/// Relative residual norm (the default): how much a block changes the signal it is added to,
/// score_b = mean over examples n of ‖F_b(x_n)‖₂ / ‖x_n‖₂. Removing block b changes y by exactly −F_b(x), so a branch
/// whose output is small next to its input matters least; the ratio makes blocks at different depths (and scales)
/// comparable. The measure of "Deep networks with stochastic depth" (Huang et al. 2016) and "Residual networks behave
/// like ensembles of relatively shallow networks" (Veit et al. 2016), where dropping such blocks costs little.
/// </summary>
public sealed record ResidualNormImportance : IBlockImportance
{
    /// <inheritdoc />
    public double[] Score(GraphModule module, IReadOnlyList<ResidualBlock> blocks, IReadOnlyList<Tensor> calibration) =>
        BlockActivations.Measure(module, blocks, calibration, (x, branch, _) =>
            (linalg.vector_norm(branch, dims: new long[] { 1 }) / linalg.vector_norm(x, dims: new long[] { 1 }).clamp_min(1e-12)).mean().item<double>());
}

/// <summary>
/// Block influence (ShortGPT, Men et al. 2024): a block that barely turns its input's direction is redundant,
/// score_b = 1 − mean over examples n of cos(x_n, y_n) with y = x + F_b(x).
/// </summary>
public sealed record BlockInfluenceImportance : IBlockImportance
{
    /// <inheritdoc />
    public double[] Score(GraphModule module, IReadOnlyList<ResidualBlock> blocks, IReadOnlyList<Tensor> calibration) =>
        BlockActivations.Measure(module, blocks, calibration, (x, _, y) =>
            1 - nn.functional.cosine_similarity(x, y, dim: 1, eps: 1e-12).mean().item<double>());
}

/// <summary>Seeded uniform scores: the control a block criterion should beat.</summary>
/// <param name="Seed">The seed.</param>
public sealed record RandomBlockImportance(long Seed = 0) : IBlockImportance
{
    /// <inheritdoc />
    public double[] Score(GraphModule module, IReadOnlyList<ResidualBlock> blocks, IReadOnlyList<Tensor> calibration)
    {
        using var generator = new Generator((ulong)Seed);
        return rand(new long[] { blocks.Count }, generator: generator, dtype: float64).data<double>().ToArray();
    }
}

/// <summary>One forward pass that captures every block's input, branch and output, flattened per example, in float64.</summary>
static class BlockActivations
{
    public static double[] Measure(GraphModule module, IReadOnlyList<ResidualBlock> blocks, IReadOnlyList<Tensor> calibration, Func<Tensor, Tensor, Tensor, double> score)
    {
        if (blocks.Count == 0) return Array.Empty<double>();
        var values = new Dictionary<string, Tensor>();
        bool training = module.training;
        module.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            module.Run(calibration, values, blocks.SelectMany(b => new[] { b.Input, b.Branch, b.Output }).Distinct().ToList());
            Tensor Rows(Tensor value) => value.to_type(ScalarType.Float64).reshape(value.shape[0], -1);
            return blocks.Select(b =>
            {
                var x = values[b.Input];
                return score(Rows(x), Rows(values[b.Branch].expand_as(x)), Rows(values[b.Output]));
            }).ToArray();
        }
        finally
        {
            module.train(training);
        }
    }
}
