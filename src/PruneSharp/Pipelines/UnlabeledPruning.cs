using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Methods;
using PruneSharp.Recovery;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pipelines;

/// <summary>What unstructured pruning on unlabeled inputs did.</summary>
/// <param name="Pruning">The pruned weights, MACs and choices (no accuracy: there are no labels).</param>
/// <param name="FidelityBefore">Every output's fidelity to the dense model right after pruning, before the recovery.</param>
/// <param name="FidelityAfter">The same after distillation (null without recovery epochs).</param>
/// <param name="Distillation">What distillation did (null without recovery epochs).</param>
/// <param name="FidelityExamples">Examples (the first ones of the inputs) the fidelity is measured on.</param>
public sealed record UnlabeledOutcome(UnstructuredOutcome Pruning, IReadOnlyList<OutputFidelity> FidelityBefore, IReadOnlyList<OutputFidelity>? FidelityAfter,
    DistillationResult? Distillation, int FidelityExamples);

/// <summary>
/// Unstructured (and N:M, block, kernel) pruning of any model on unlabeled inputs (arrays, tokenised sentences of a
/// several-input encoder, images without classes), recovered by knowledge distillation from the dense model.
/// <para>
/// Magnitude and random need no data; wanda, apoz and entropy observe the model's activations on the first batches.
/// Criteria scored by the gradients of a loss (snip, taylor, obd, movement) and loss-change are refused: there is no
/// label loss, and the one loss that needs no labels, the distillation loss against the dense teacher, is zero with a
/// zero gradient at the moment of pruning (the student still is the teacher), so their scores would all be zero.
/// </para>
/// The pruning is one-shot; the student is then distilled with the masks kept in force (pruned weights stay exactly
/// zero: gradients masked before, masks re-applied after every optimizer step), and the fidelity (cosine of every
/// output to the dense model's) is measured right after pruning and after the recovery.
/// </summary>
public static class UnlabeledPruning
{
    /// <summary>Batches a criterion observes: the first this many batches of the inputs (fewer if there are fewer).</summary>
    public const int ObservedBatches = 8;

    /// <summary>Refuses a criterion that cannot score without labels, before anything is loaded.</summary>
    /// <param name="criterion">The stage's criterion.</param>
    /// <param name="data">The data as given, named in the error.</param>
    /// <param name="methodField">The field that names the method.</param>
    /// <exception cref="ArgumentException">The criterion needs labels; the message says why and what works.</exception>
    public static void Check(Criterion criterion, string data, string methodField = "--method")
    {
        if (criterion is IInputObservingCriterion || criterion is not (IObservingCriterion or MovementCriterion)) return;
        string why = criterion is LossChangeCriterion
            ? "measures the change of the classification loss on the labels when a weight is removed"
            : "scores weights with the gradients of a loss; without labels there is no task loss, and the distillation loss against the dense model is zero with a zero gradient before anything is pruned (the student still is the teacher), so every score would be zero";
        throw new ArgumentException($"{methodField} {criterion.Name} {why}; '{data}' holds unlabeled inputs: use magnitude, random, wanda, apoz or entropy");
    }

    /// <summary>
    /// Prunes <paramref name="model"/> as <paramref name="stage"/> says (its pruner bound to the model's masks), then
    /// distils <paramref name="teacher"/> (the dense model, never modified) into it on <paramref name="inputs"/> for
    /// the epochs of <paramref name="fineTune"/>, the masks kept; the masks are made permanent at the end.
    /// </summary>
    /// <param name="model">The model to prune, in place.</param>
    /// <param name="teacher">An unpruned copy of the model.</param>
    /// <param name="stage">The one-shot stage.</param>
    /// <param name="inputs">Unlabeled inputs: observed by the criterion, distilled on, and the fidelity's examples.</param>
    /// <param name="fineTune">The distillation's training (epochs 0: prune and measure only).</param>
    /// <param name="distillation">Losses and features of the distillation.</param>
    /// <param name="progress">Where progress goes.</param>
    /// <param name="cancellation">Stops training between batches with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">The criterion needs labels (<see cref="Check"/>), the schedule is not one-shot, or the inputs are empty.</exception>
    public static UnlabeledOutcome Run(GraphModule model, GraphModule teacher, UnstructuredStage stage, IInputSource inputs, TrainerOptions fineTune,
        DistillationOptions distillation, PipelineProgress? progress = null, CancellationToken cancellation = default)
    {
        progress ??= PipelineProgress.None;
        var pruner = stage.Pruner;
        Check(pruner.Criterion, "the data");
        if (stage.Rounds != 1)
            throw new ArgumentException("unlabeled inputs prune one-shot (the iterative and gradual schedules fine-tune on labels); recover with distillation");
        if (inputs.Count == 0) throw new ArgumentException("the unlabeled data holds no examples");
        var selection = pruner.Scope.Choose(pruner.Masks);
        var skipped = pruner.Unsplittable();
        var prunable = selection.Prunable.Where(n => !skipped.ContainsKey(n)).ToHashSet();
        var trainable = fineTune.Epochs > 0 ? fineTune.Trainable.Select(model) : null;
        var sample = inputs.Inputs(new[] { 0 });
        var denseMacs = MacCounter.Measure(model, sample);

        ScoringContext? context = null;
        if (pruner.Criterion is IInputObservingCriterion observing)
        {
            progress.Status?.Report($"{pruner.Criterion.Name}: observing the activations of {Math.Min(inputs.Count, ObservedBatches * fineTune.BatchSize)} unlabeled examples");
            var batches = Enumerable.Range(0, inputs.Count).Take(ObservedBatches * fineTune.BatchSize).Chunk(fineTune.BatchSize)
                .Select(chunk => inputs.Inputs(chunk)).ToList();
            context = observing.ObserveInputs(model, batches, pruner.Scope.Select(pruner.Masks));
            foreach (var tensor in batches.SelectMany(b => b)) tensor.Dispose();
        }
        pruner.Prune(stage.Sparsity, context);
        pruner.Masks.Apply();

        var measured = new FirstInputs(inputs, Math.Min(distillation.EvaluationExamples, inputs.Count));
        var before = Fidelity.Measure(model, teacher, measured, fineTune.BatchSize, cancellation);
        DistillationResult? distilled = null;
        IReadOnlyList<OutputFidelity>? after = null;
        if (fineTune.Epochs > 0)
        {
            distilled = Distillation.Run(teacher, model, inputs, distillation, fineTune, new ITrainingCallback[] { new MaskedTraining(pruner.Masks) },
                progress.For("distill"), cancellation);
            if (distilled.Training.Cancelled) throw new OperationCanceledException();
            after = Fidelity.Measure(model, teacher, measured, fineTune.BatchSize, cancellation);
        }
        pruner.Masks.MakePermanent();
        var outcome = new UnstructuredOutcome(SparsityReport.Measure(model), prunable, denseMacs, MacCounter.Measure(model, sample), null, null,
            selection.LeftOut, skipped, trainable);
        foreach (var tensor in sample) tensor.Dispose();
        return new UnlabeledOutcome(outcome, before, after, distilled, measured.Count);
    }

    /// <summary>The first <paramref name="count"/> examples of <paramref name="inputs"/> (at most as many as it holds).</summary>
    internal sealed class FirstInputs(IInputSource inputs, int count) : IInputSource
    {
        public int Count => count;

        public IReadOnlyList<Tensor> Inputs(IReadOnlyList<int> indices) => inputs.Inputs(indices);
    }
}
