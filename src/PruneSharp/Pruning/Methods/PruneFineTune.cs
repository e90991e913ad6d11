using PruneSharp.Data;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Schedules;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Methods;

/// <summary>Settings of a train → prune → fine-tune run.</summary>
public sealed record PruneFineTuneOptions
{
    /// <summary>The sparsity after the last round (of the pruner's scope, as <see cref="Pruner.Prune"/> counts it).</summary>
    public double Sparsity { get; init; }

    /// <summary>
    /// Prune–fine-tune rounds: 1 is one-shot; k rounds follow <see cref="IterativeSchedule"/>, each removing the same
    /// fraction of the survivors (ranking only survivors) and fine-tuning before the next.
    /// </summary>
    public int Rounds { get; init; } = 1;

    /// <summary>The fine-tune after each round (its <see cref="TrainerOptions.Epochs"/> may be 0: prune only).</summary>
    public TrainerOptions FineTune { get; init; } = new() { Epochs = 0 };

    /// <summary>
    /// Gives each round's <see cref="ScoringContext"/> right before it prunes (e.g. a data-driven criterion observing
    /// the masked model, <see cref="IObservingCriterion"/>); null: none.
    /// </summary>
    public Func<ScoringContext>? Context { get; init; }

    /// <summary>More callbacks for every fine-tune (e.g. <see cref="MovementCriterion"/> accumulating its scores).</summary>
    public IReadOnlyList<ITrainingCallback> Callbacks { get; init; } = Array.Empty<ITrainingCallback>();
}

/// <summary>One round of <see cref="PruneFineTune.Run"/>.</summary>
/// <param name="Round">1-based round.</param>
/// <param name="TargetSparsity">The sparsity this round prunes to.</param>
/// <param name="Layers">Per-parameter outcome of the pruning.</param>
/// <param name="AfterPruning">Test metrics right after pruning (null without test data).</param>
/// <param name="AfterFineTune">Test metrics after the round's fine-tune (null without test data or without fine-tuning).</param>
public sealed record PruneFineTuneRound(int Round, double TargetSparsity, IReadOnlyList<LayerPruning> Layers,
    ClassificationMetrics? AfterPruning, ClassificationMetrics? AfterFineTune)
{
    /// <summary>Sparsity of the pruned parameters after the round.</summary>
    public double Sparsity
    {
        get
        {
            long elements = Layers.Sum(l => l.Elements);
            return elements == 0 ? 0 : 1 - (double)Layers.Sum(l => l.Kept) / elements;
        }
    }
}

/// <summary>
/// Train → prune → fine-tune (Han et al. 2015, "Learning both Weights and Connections"): prune a trained model, then
/// train the survivors further with the masks kept in force (<see cref="MaskedTraining"/>); one-shot, or iterative in
/// k rounds that each rank only the survivors. The masks stay bound to the pruner's <see cref="Masks.MaskSet"/>
/// afterwards; call <see cref="Masks.MaskSet.MakePermanent"/> to drop them.
/// </summary>
public static class PruneFineTune
{
    /// <summary>Runs every round on the pruner's model (which must map inputs to logits).</summary>
    /// <param name="pruner">Criterion, granularity, scope and the masks of the model.</param>
    /// <param name="options">Target sparsity, rounds and fine-tune settings.</param>
    /// <param name="train">Fine-tuning data (required when the fine-tune has epochs).</param>
    /// <param name="test">Evaluation data, or null to skip evaluation.</param>
    /// <param name="progress">Receives the fine-tunes' training progress.</param>
    /// <param name="cancellation">Stops between batches with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">The model is not a <c>Module&lt;Tensor, Tensor&gt;</c>, or a fine-tune has no data.</exception>
    public static IReadOnlyList<PruneFineTuneRound> Run(Pruner pruner, PruneFineTuneOptions options, IDataset? train, IDataset? test,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (pruner.Masks.Module is not nn.Module<Tensor, Tensor> model)
            throw new ArgumentException($"the model ({pruner.Masks.Module.GetType().Name}) must map one tensor to one tensor");
        var schedule = new IterativeSchedule(options.Sparsity, options.Rounds);
        if (options.FineTune.Epochs > 0 && train is null) throw new ArgumentException("fine-tuning needs training data");
        var rounds = new List<PruneFineTuneRound>();
        for (int round = 1; round <= options.Rounds; round++)
        {
            cancellation.ThrowIfCancellationRequested();
            double target = schedule.SparsityAt(round);
            pruner.Masks.Apply();
            var layers = pruner.Prune(target, options.Context?.Invoke());
            var afterPruning = test is null ? null : Evaluator.Classify(model, test, cancellation: cancellation);
            ClassificationMetrics? afterFineTune = null;
            if (options.FineTune.Epochs > 0)
            {
                FineTune(model, pruner.Masks, options.FineTune, train!, progress, cancellation, options.Callbacks);
                if (test is not null) afterFineTune = Evaluator.Classify(model, test, cancellation: cancellation);
            }
            rounds.Add(new PruneFineTuneRound(round, target, layers, afterPruning, afterFineTune));
        }
        return rounds;
    }

    /// <summary>Trains <paramref name="model"/> with <paramref name="masks"/> kept in force; pruned weights stay exactly zero.</summary>
    /// <exception cref="OperationCanceledException">Cancelled before the fine-tune finished.</exception>
    public static TrainingResult FineTune(nn.Module<Tensor, Tensor> model, Masks.MaskSet masks, TrainerOptions options, IDataset train,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, IReadOnlyList<ITrainingCallback>? callbacks = null)
    {
        using var trainer = new Trainer(model, options) { Progress = progress };
        trainer.Callbacks.Add(new MaskedTraining(masks));
        foreach (var callback in callbacks ?? Array.Empty<ITrainingCallback>()) trainer.Callbacks.Add(callback);
        masks.Apply();
        var result = trainer.Fit(train, cancellation);
        if (result.Cancelled) throw new OperationCanceledException("fine-tuning was cancelled", cancellation);
        return result;
    }
}
