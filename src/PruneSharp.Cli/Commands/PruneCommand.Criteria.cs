using PruneSharp.Data;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Methods;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// The data-driven weight criteria of unstructured <c>prune</c> (snip, taylor, obd, apoz, entropy, loss-change
/// observe the model on the first 8 training batches before each pruning; movement accumulates its scores while
/// fine-tuning, so a one-shot or iterative run first fine-tunes the dense model for --finetune-epochs to collect them).
/// </summary>
static partial class PruneCommand
{
    /// <summary>Refuses a data-driven criterion without the data (or the fine-tuning) it needs, before anything is loaded.</summary>
    static void CheckCriterionData(Pruning.Criteria.Criterion criterion, string? dataSpec, int epochs)
    {
        bool dataDriven = criterion is IObservingCriterion or MovementCriterion;
        if (dataDriven && dataSpec is null) throw new ArgumentException($"--method {criterion.Name} needs --data (it observes the model on training batches)");
        if (dataDriven && LanguageModelFlags.IsText(dataSpec!)) throw new ArgumentException($"--method {criterion.Name} is for image classifiers; a language model (--data FILE.txt) takes magnitude or random");
        if (criterion is MovementCriterion && epochs == 0) throw new ArgumentException("--method movement accumulates its scores while fine-tuning: give --finetune-epochs");
    }

    /// <summary>What each pruning observes (null for criteria that need nothing) and the callbacks every fine-tune runs.</summary>
    static (Func<ScoringContext>? Context, IReadOnlyList<ITrainingCallback> Callbacks) Scoring(Pruner pruner, IDataset? train, int batchSize)
    {
        var model = (nn.Module<Tensor, Tensor>)pruner.Masks.Module;
        return pruner.Criterion switch
        {
            IObservingCriterion observing => (() =>
            {
                var batches = ScoringBatches(train!, batchSize).ToList();
                try
                {
                    return observing.Observe(model, batches, pruner.Scope.Select(pruner.Masks));
                }
                finally
                {
                    foreach (var batch in batches) batch.Dispose();
                }
            }, Array.Empty<ITrainingCallback>()),
            MovementCriterion movement => (null, new ITrainingCallback[] { movement }),
            _ => (null, Array.Empty<ITrainingCallback>()),
        };
    }

    /// <summary>Movement's scores for the first pruning: a dense fine-tune of the run's length that accumulates them.</summary>
    static void CollectMovement(nn.Module<Tensor, Tensor> model, Pruner pruner, IDataset train, TrainerOptions fineTune)
    {
        if (pruner.Criterion is not MovementCriterion movement) return;
        ProgressBar.Status($"movement: accumulating −w·g over a dense fine-tune of {fineTune.Epochs} epoch(s) before the first pruning");
        TrainCommand.WithCtrlC(token => PruneFineTune.FineTune(model, pruner.Masks, fineTune, train, new ProgressBar("movement"), token, new[] { movement }));
    }
}
