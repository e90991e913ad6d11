using PruneSharp.Data;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Training;

/// <summary>What a callback sees: the trainer's model and optimizer, and the batch in flight.</summary>
public sealed class TrainingContext
{
    internal TrainingContext(Trainer trainer, CancellationToken cancellation)
    {
        Trainer = trainer;
        Cancellation = cancellation;
    }

    /// <summary>The trainer running the loop.</summary>
    public Trainer Trainer { get; }

    /// <summary>The model being trained.</summary>
    public nn.Module<Tensor, Tensor> Model => Trainer.Model;

    /// <summary>The optimizer.</summary>
    public OptimizerHelper Optimizer => Trainer.Optimizer;

    /// <summary>The trainer's position: during a batch, the batch in flight and the steps taken before it (after the step: the next batch).</summary>
    public TrainingPosition Position => Trainer.Position;

    /// <summary>The learning rate of the current step.</summary>
    public double LearningRate { get; internal set; }

    /// <summary>The batch in flight (<c>null</c> outside a batch).</summary>
    public Batch? Batch { get; internal set; }

    /// <summary>The batch's loss (set after the forward pass; <c>null</c> before).</summary>
    public Tensor? Loss { get; internal set; }

    /// <summary>
    /// Set by a callback in <see cref="ITrainingCallback.OnBeforeOptimizerStep"/> to leave this batch's weights as they
    /// are: the trainer then clips nothing and takes no optimizer step (the step still counts in <see cref="Position"/>
    /// and <see cref="ITrainingCallback.OnAfterOptimizerStep"/> is still called). Cleared before every batch.
    /// </summary>
    public bool SkipOptimizerStep { get; set; }

    /// <summary>The token passed to <see cref="Trainer.Fit(Data.IDataset, CancellationToken)"/>.</summary>
    public CancellationToken Cancellation { get; }
}
