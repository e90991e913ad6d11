using static TorchSharp.torch;

namespace PruneSharp.Training;

/// <summary>A training objective: the mean loss of a batch's model output against its targets.</summary>
public delegate Tensor LossFunction(Tensor output, Tensor target);

/// <summary>A training objective that runs the model itself: the mean loss of the examples at <paramref name="indices"/>.</summary>
public delegate Tensor BatchObjective(IReadOnlyList<int> indices);

/// <summary>Standard losses.</summary>
public static class Losses
{
    /// <summary>
    /// Mean cross-entropy of logits against class indices. Works for classifiers (<c>[N, C]</c> vs <c>[N]</c>) and
    /// language models (<c>[N, T, V]</c> vs <c>[N, T]</c>): every leading dimension is flattened.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit (checked before anything runs, so backward never sees them).</exception>
    public static Tensor CrossEntropy(Tensor output, Tensor target)
    {
        CheckLogits(output, target);
        long classes = output.shape[^1];
        return nn.functional.cross_entropy(output.reshape(-1, classes), target.reshape(-1));
    }

    /// <summary>Checks that <paramref name="output"/> is <paramref name="target"/>'s shape plus a trailing class dimension and that targets are int64.</summary>
    /// <exception cref="ArgumentException">They do not fit.</exception>
    public static void CheckLogits(Tensor output, Tensor target)
    {
        if (target.dtype != ScalarType.Int64)
            throw new ArgumentException($"targets must be int64 class indices, got {target.dtype}");
        if (output.dim() != target.dim() + 1 || !output.shape[..^1].SequenceEqual(target.shape))
            throw new ArgumentException($"model output [{string.Join(",", output.shape)}] must be the target shape [{string.Join(",", target.shape)}] plus a class dimension");
    }
}
