using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Methods;
using PruneSharp.Pruning.Schedules;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pipelines;

/// <summary>One unstructured pruning stage: the pruner, the sparsity it ends at and its schedule.</summary>
/// <param name="Pruner">Criterion × granularity × scope, bound to the model's masks.</param>
/// <param name="Sparsity">The sparsity after the stage (of the scope's weights).</param>
/// <param name="Rounds">1: one-shot; K: iterative in K prune/fine-tune rounds; 0: gradual (Zhu &amp; Gupta) during the fine-tune.</param>
public sealed record UnstructuredStage(Pruner Pruner, double Sparsity, int Rounds);

/// <summary>What an unstructured stage did: the weights' sparsity and MACs before and after, accuracy, and the choices it made.</summary>
/// <param name="Sparsity">Every parameter's sparsity after the stage (masks made permanent).</param>
/// <param name="Prunable">The parameters the stage could prune (the scope's, less those the granularity cannot split).</param>
/// <param name="DenseMacs">MACs of the model before pruning.</param>
/// <param name="PrunedMacs">MACs after.</param>
/// <param name="Before">Test metrics of the dense model (null without test data).</param>
/// <param name="After">Test metrics after pruning and recovery (null without test data).</param>
/// <param name="LeftOut">Weights the scope left dense, with the reason.</param>
/// <param name="Skipped">Weights the granularity cannot split (left dense), with the reason.</param>
/// <param name="Trainable">What the fine-tune trained (null without fine-tuning).</param>
public sealed record UnstructuredOutcome(SparsityReport Sparsity, IReadOnlySet<string> Prunable, MacReport DenseMacs, MacReport PrunedMacs,
    ClassificationMetrics? Before, ClassificationMetrics? After, IReadOnlyList<LeftOutWeight> LeftOut, IReadOnlyDictionary<string, string> Skipped,
    TrainableSelection? Trainable)
{
    /// <summary>Test metrics right after the last pruning, before its fine-tune (null without test data, or when the schedule prunes while training).</summary>
    public ClassificationMetrics? AfterPruning { get; init; }
}

/// <summary>
/// Runs an <see cref="UnstructuredStage"/> on a classifier: measures the dense model, lets a data-driven criterion
/// observe training batches before each pruning (snip, taylor, obd, apoz, entropy, loss-change: the first 8 batches;
/// movement: a dense fine-tune of the run's length that accumulates its scores), prunes one-shot, iteratively or
/// gradually with the fine-tune in between, or recovers with a given step (distillation), makes the masks permanent
/// and measures again.
/// </summary>
public static class UnstructuredPruning
{
    /// <summary>The unstructured stage <paramref name="s"/> bound to a new mask set of <paramref name="model"/>, and whether it keeps the first and last layers dense (errors name the fields under <paramref name="at"/>).</summary>
    public static (UnstructuredStage Stage, bool KeepFirstAndLast) Stage(StageDescription s, string at, GraphModule model, long seed)
    {
        var grain = PruningParts.Granularity(s.Granularity, $"{at}.granularity");
        double sparsity = PruningParts.Sparsity(s.Sparsity, grain, $"{at}.sparsity");
        bool keep = s.FirstLast is null ? PruningScope.FirstAndLastDefault(grain, sparsity) : s.FirstLast == "keep";
        var scope = new PruningScope
        {
            Allocation = PruningParts.Allocation(s.Scope, $"{at}.scope"), Exclude = s.Exclude ?? Array.Empty<string>(),
            IncludeEmbeddings = s.PruneEmbeddings, KeepFirstAndLast = keep, Strict = s.Strict,
        };
        var pruner = new Pruner(new MaskSet(model), PruningParts.Criterion(s.Method, seed, $"{at}.method"), grain, scope);
        return (new UnstructuredStage(pruner, sparsity, PruningParts.Rounds(s.Schedule, $"{at}.schedule")), keep);
    }

    /// <summary>Refuses a data-driven criterion without the data (or the fine-tuning) it needs, before anything is loaded.</summary>
    /// <param name="criterion">The stage's criterion.</param>
    /// <param name="hasData">Whether the pipeline has (image) training data.</param>
    /// <param name="epochs">Fine-tuning epochs.</param>
    /// <param name="dataField">The field that gives data, named in the error.</param>
    /// <param name="methodField">The field that names the method.</param>
    /// <param name="epochsField">The field that gives the epochs.</param>
    public static void CheckData(Criterion criterion, bool hasData, int epochs, string dataField = "--data", string methodField = "--method", string epochsField = "--finetune-epochs")
    {
        bool dataDriven = criterion is IObservingCriterion or MovementCriterion;
        if (dataDriven && !hasData) throw new ArgumentException($"{methodField} {criterion.Name} needs {dataField} (it observes the model on training batches)");
        if (criterion is MovementCriterion && epochs == 0) throw new ArgumentException($"{methodField} movement accumulates its scores while fine-tuning: give {epochsField}");
    }

    /// <summary>Runs <paramref name="stage"/> on <paramref name="model"/> (whose masks the stage's pruner holds).</summary>
    /// <param name="model">The classifier.</param>
    /// <param name="stage">What to prune and when.</param>
    /// <param name="fineTune">The fine-tune after each round (epochs 0: none).</param>
    /// <param name="train">Training data (for data-driven criteria and fine-tuning), or null.</param>
    /// <param name="test">Test data, or null: no accuracy.</param>
    /// <param name="examples">Example inputs that MACs are counted on (one batch).</param>
    /// <param name="recover">A recovery that replaces the fine-tune after one-shot pruning (distillation), given the masks to keep; null: fine-tune.</param>
    /// <param name="progress">Where progress goes.</param>
    /// <param name="cancellation">Stops training between batches with <see cref="OperationCanceledException"/>.</param>
    public static UnstructuredOutcome Run(GraphModule model, UnstructuredStage stage, TrainerOptions fineTune, IDataset? train, IDataset? test,
        IReadOnlyList<Tensor> examples, Action<MaskSet>? recover = null, PipelineProgress? progress = null, CancellationToken cancellation = default)
    {
        progress ??= PipelineProgress.None;
        var pruner = stage.Pruner;
        var selection = pruner.Scope.Choose(pruner.Masks);
        var skipped = pruner.Unsplittable();
        var prunable = selection.Prunable.Where(n => !skipped.ContainsKey(n)).ToHashSet();
        var trainable = fineTune.Epochs > 0 ? fineTune.Trainable.Select(model) : null;
        var denseMacs = MacCounter.Measure(model, examples);
        var before = test is null ? null : Evaluator.Classify(model, test);
        ClassificationMetrics? after, afterPruning = null;
        var (context, callbacks) = Scoring(pruner, train, fineTune.BatchSize);
        if (recover is not null)
        {
            pruner.Prune(stage.Sparsity, context?.Invoke());
            recover(pruner.Masks);
            after = test is null ? null : Evaluator.Classify(model, test);
        }
        else if (stage.Rounds == 0)
        {
            if (train is null || fineTune.Epochs == 0) throw new ArgumentException("the gradual schedule prunes during fine-tuning: it needs training data and fine-tuning epochs");
            Gradual(model, pruner, stage.Sparsity, train, fineTune, context, callbacks, progress, cancellation);
            after = test is null ? null : Evaluator.Classify(model, test);
        }
        else
        {
            CollectMovement(model, pruner, train, fineTune, progress, cancellation);
            var result = PruneFineTune.Run(pruner,
                new PruneFineTuneOptions { Sparsity = stage.Sparsity, Rounds = stage.Rounds, FineTune = fineTune, Context = context, Callbacks = callbacks },
                train, test, progress.For("fine-tune"), cancellation);
            after = result[^1].AfterFineTune ?? result[^1].AfterPruning;
            afterPruning = result[^1].AfterPruning;
        }
        pruner.Masks.MakePermanent();
        return new UnstructuredOutcome(SparsityReport.Measure(model), prunable, denseMacs, MacCounter.Measure(model, examples), before, after,
            selection.LeftOut, skipped, trainable) { AfterPruning = afterPruning };
    }

    /// <summary>The training batches that data-driven criteria observe: the first 8 × <paramref name="batchSize"/> examples (wrapping around a small set).</summary>
    public static IEnumerable<Batch> ScoringBatches(IDataset train, int batchSize)
    {
        for (int b = 0; b < 8; b++)
            yield return train.GetBatch(Enumerable.Range(b * batchSize, batchSize).Select(i => i % train.Count).ToArray());
    }

    /// <summary>What each pruning observes (null for criteria that need nothing) and the callbacks every fine-tune runs.</summary>
    static (Func<ScoringContext>? Context, IReadOnlyList<ITrainingCallback> Callbacks) Scoring(Pruner pruner, IDataset? train, int batchSize)
    {
        var model = (nn.Module<Tensor, Tensor>)pruner.Masks.Module;
        return pruner.Criterion switch
        {
            IObservingCriterion observing => (() =>
            {
                var batches = ScoringBatches(train ?? throw new ArgumentException($"the {pruner.Criterion.Name} criterion observes training batches: it needs training data"), batchSize).ToList();
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
    static void CollectMovement(nn.Module<Tensor, Tensor> model, Pruner pruner, IDataset? train, TrainerOptions fineTune, PipelineProgress progress, CancellationToken cancellation)
    {
        if (pruner.Criterion is not MovementCriterion movement) return;
        if (train is null) throw new ArgumentException("the movement criterion accumulates its scores while fine-tuning: it needs training data");
        progress.Status?.Report($"movement: accumulating −w·g over a dense fine-tune of {fineTune.Epochs} epoch(s) before the first pruning");
        var result = PruneFineTune.FineTune(model, pruner.Masks, fineTune, train, progress.For("movement"), cancellation, new[] { movement });
        if (result.Cancelled) throw new OperationCanceledException();
    }

    /// <summary>
    /// The gradual schedule (Zhu &amp; Gupta): sparsity rises along a cubic from the first step to three quarters of the
    /// fine-tune, pruning every tenth of that span, while <paramref name="model"/> trains on <paramref name="train"/>.
    /// </summary>
    /// <param name="model">The model (a classifier or a language model).</param>
    /// <param name="pruner">The pruner bound to the model's masks.</param>
    /// <param name="sparsity">The sparsity at the end.</param>
    /// <param name="train">The fine-tuning data.</param>
    /// <param name="fineTune">The fine-tune the pruning runs in.</param>
    /// <param name="context">What each pruning observes first, or null.</param>
    /// <param name="callbacks">More callbacks for the fine-tune.</param>
    /// <param name="progress">Where progress goes.</param>
    /// <param name="cancellation">Stops between batches with <see cref="OperationCanceledException"/>.</param>
    public static void Gradual(nn.Module<Tensor, Tensor> model, Pruner pruner, double sparsity, IDataset train, TrainerOptions fineTune,
        Func<ScoringContext>? context = null, IReadOnlyList<ITrainingCallback>? callbacks = null, PipelineProgress? progress = null, CancellationToken cancellation = default)
    {
        progress ??= PipelineProgress.None;
        callbacks ??= Array.Empty<ITrainingCallback>();
        long steps = (long)fineTune.Epochs * ((train.Count + fineTune.BatchSize - 1) / fineTune.BatchSize);
        long end = Math.Max(2, steps * 3 / 4);
        var gradual = new ScheduledPruning(pruner, new GradualSchedule(sparsity, 1, end, Math.Max(1, end / 10)), context);
        using var trainer = new Trainer(model, fineTune) { Progress = progress.For("fine-tune") };
        foreach (var callback in callbacks) trainer.Callbacks.Add(callback);
        trainer.Callbacks.Add(new GradualPruningCallback(gradual));
        if (trainer.Fit(train, cancellation).Cancelled) throw new OperationCanceledException();
    }
}
