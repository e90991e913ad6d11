using PruneSharp.Graph;
using PruneSharp.Metrics;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>One residual block with its score, and whether depth pruning removed it.</summary>
/// <param name="Block">The block.</param>
/// <param name="Score">Its importance (higher = keep).</param>
/// <param name="Removed">True if it was removed.</param>
public sealed record ScoredBlock(ResidualBlock Block, double Score, bool Removed);

/// <summary>What depth pruning did: the shallower model, every removable block with its score, and sizes.</summary>
/// <param name="Model">The pruned model.</param>
/// <param name="Blocks">The removable blocks of the original, in data-flow order.</param>
/// <param name="DenseMacs">MACs of one example before.</param>
/// <param name="PrunedMacs">MACs of one example after.</param>
/// <param name="DenseParameters">Parameters before.</param>
/// <param name="PrunedParameters">Parameters after.</param>
public sealed record BlockPruningResult(GraphModule Model, IReadOnlyList<ScoredBlock> Blocks, long DenseMacs, long PrunedMacs, long DenseParameters, long PrunedParameters);

/// <summary>
/// Depth pruning: find the residual blocks with an identity skip (<see cref="ResidualBlocks"/>), score them on
/// calibration inputs (<see cref="ResidualNormImportance"/> by default), and remove the least important ones whole
/// (<see cref="BlockSurgery"/>), one-shot.
/// </summary>
public static class BlockPruner
{
    /// <summary>Removes the <paramref name="count"/> least important blocks of <paramref name="model"/> (not modified).</summary>
    /// <param name="model">The model.</param>
    /// <param name="calibration">Inputs the blocks are scored on (one tensor per graph input, examples along the first axis).</param>
    /// <param name="count">How many blocks to remove (at most all removable ones).</param>
    /// <param name="importance">The block criterion; <see cref="ResidualNormImportance"/> if null.</param>
    /// <exception cref="ArgumentException"><paramref name="count"/> is negative or larger than the number of removable blocks.</exception>
    public static BlockPruningResult Prune(GraphModule model, IReadOnlyList<Tensor> calibration, int count, IBlockImportance? importance = null)
    {
        var one = calibration.Select(t => t[..1]).ToList();
        var blocks = ResidualBlocks.Find(model, one);
        if (count < 0 || count > blocks.Count)
            throw new ArgumentException($"cannot remove {count} residual blocks: the model has {blocks.Count} removable ones");
        double[] scores = (importance ?? new ResidualNormImportance()).Score(model, blocks, calibration);
        // Lowest scores go; ties to the earlier block.
        var gone = Enumerable.Range(0, blocks.Count).OrderBy(i => scores[i]).ThenBy(i => i).Take(count).ToHashSet();
        var pruned = BlockSurgery.Remove(model, gone.Select(i => blocks[i]).ToList());
        return new BlockPruningResult(pruned, blocks.Select((b, i) => new ScoredBlock(b, scores[i], gone.Contains(i))).ToList(),
            MacCounter.Measure(model, one).DenseMacs, MacCounter.Measure(pruned, one).DenseMacs,
            model.parameters().Sum(p => p.numel()), pruned.parameters().Sum(p => p.numel()));
    }
}
