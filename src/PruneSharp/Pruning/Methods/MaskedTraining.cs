using PruneSharp.Pruning.Masks;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Methods;

/// <summary>
/// Keeps a <see cref="MaskSet"/> in force while a <see cref="Trainer"/> runs: gradients of pruned weights are zeroed
/// before every optimizer step and the masks are re-applied after it (momentum, Adam moments and weight decay would
/// otherwise revive pruned weights). The masks travel in the trainer's checkpoints, so a resumed fine-tune keeps them.
/// </summary>
public sealed class MaskedTraining(MaskSet masks) : ITrainingCallback
{
    const string Prefix = "masks/";

    /// <summary>The masks kept in force.</summary>
    public MaskSet Masks { get; } = masks;

    /// <inheritdoc/>
    public void OnEpochStart(TrainingContext context) => Masks.Apply();

    /// <inheritdoc/>
    public void OnBeforeOptimizerStep(TrainingContext context) => Masks.MaskGradients();

    /// <inheritdoc/>
    public void OnAfterOptimizerStep(TrainingContext context) => Masks.Apply();

    /// <inheritdoc/>
    public void SaveState(IDictionary<string, Tensor> extra) => Masks.SaveState(extra, Prefix);

    /// <inheritdoc/>
    public void LoadState(IReadOnlyDictionary<string, Tensor> extra) => Masks.LoadState(extra, Prefix);
}
