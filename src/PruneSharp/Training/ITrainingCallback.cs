using static TorchSharp.torch;

namespace PruneSharp.Training;

/// <summary>
/// Hooks into the training loop; every method has an empty default. Per batch the order is:
/// <see cref="OnBatchStart"/>, zero gradients, forward, loss, backward, <see cref="OnBeforeOptimizerStep"/>
/// (gradients are ready: mask them here), gradient clipping, optimizer step, <see cref="OnAfterOptimizerStep"/>
/// (zero masked weights here).
/// </summary>
public interface ITrainingCallback
{
    /// <summary>Before the first batch of an epoch (not called again when a run resumes in the middle of that epoch).</summary>
    void OnEpochStart(TrainingContext context) { }

    /// <summary>Before a batch's forward pass.</summary>
    void OnBatchStart(TrainingContext context) { }

    /// <summary>After backward, before gradient clipping and the optimizer step.</summary>
    void OnBeforeOptimizerStep(TrainingContext context) { }

    /// <summary>After the optimizer step.</summary>
    void OnAfterOptimizerStep(TrainingContext context) { }

    /// <summary>After the last batch of an epoch, before the epoch's checkpoint is written.</summary>
    void OnEpochEnd(TrainingContext context, EpochSummary summary) { }

    /// <summary>Adds this callback's state (e.g. masks) to a checkpoint's extra bag; use names unlikely to clash.</summary>
    void SaveState(IDictionary<string, Tensor> extra) { }

    /// <summary>Restores this callback's state from a loaded checkpoint's extra bag.</summary>
    void LoadState(IReadOnlyDictionary<string, Tensor> extra) { }
}
