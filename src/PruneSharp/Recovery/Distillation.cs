using TorchSharp;
using PruneSharp.Engine;
using PruneSharp.Graph;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Recovery;

/// <summary>Settings of knowledge distillation.</summary>
public sealed record DistillationOptions
{
    /// <summary>The loss of every output (default: per output kind, <see cref="DistillationLosses.Resolve"/>).</summary>
    public DistillationLoss Loss { get; init; } = DistillationLoss.Auto;

    /// <summary>The temperature T of <see cref="DistillationLosses.KlDivergence"/>.</summary>
    public double Temperature { get; init; } = 2;

    /// <summary>
    /// Intermediate values (names or patterns as <see cref="NamePattern"/>) whose student value is also pulled towards
    /// the teacher's, with the loss of an embedding; those whose shapes differ (channels removed) are skipped.
    /// </summary>
    public IReadOnlyList<string> Features { get; init; } = Array.Empty<string>();

    /// <summary>Weight of the features' mean loss against the outputs' summed loss.</summary>
    public double FeatureWeight { get; init; } = 1;

    /// <summary>Examples (the first ones of the data) on which the loss is measured before and after.</summary>
    public int EvaluationExamples { get; init; } = 512;

    /// <summary>Throws if a setting is out of range.</summary>
    public void Validate()
    {
        if (!(Temperature > 0) || !double.IsFinite(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be positive");
        if (!(FeatureWeight >= 0) || !double.IsFinite(FeatureWeight)) throw new ArgumentOutOfRangeException(nameof(FeatureWeight), FeatureWeight, "feature weight must be non-negative");
        if (EvaluationExamples <= 0) throw new ArgumentOutOfRangeException(nameof(EvaluationExamples), EvaluationExamples, "evaluation examples must be positive");
    }
}

/// <summary>One value the student is trained to match: its kind, loss and shape (of one example batch).</summary>
public sealed record DistilledValue(string Name, OutputKind Kind, DistillationLoss Loss, IReadOnlyList<long> Shape);

/// <summary>An intermediate value that cannot be matched, and why.</summary>
public sealed record SkippedFeature(string Name, string Reason);

/// <summary>What distillation matches: every output, and the intermediate features that were asked for and fit.</summary>
public sealed record DistillationPlan(IReadOnlyList<DistilledValue> Outputs, IReadOnlyList<DistilledValue> Features, IReadOnlyList<SkippedFeature> Skipped);

/// <summary>The outcome of <see cref="Distillation.Run"/>.</summary>
/// <param name="Plan">What was matched.</param>
/// <param name="Training">The trainer's epochs (loss per epoch).</param>
/// <param name="LossBefore">Mean teacher–student loss on the evaluation examples before training (both models in evaluation mode).</param>
/// <param name="LossAfter">The same after training.</param>
public sealed record DistillationResult(DistillationPlan Plan, TrainingResult Training, double LossBefore, double LossAfter);

/// <summary>
/// Knowledge distillation (Hinton, Vinyals and Dean, 2015) from a dense teacher into a pruned student on unlabeled
/// inputs: the student is trained, through <see cref="Trainer"/>, to reproduce the teacher's outputs (and optionally
/// intermediate features). The teacher is frozen: it runs in evaluation mode without gradients. Labels are never read.
/// </summary>
public static class Distillation
{
    /// <summary>
    /// Decides the loss of every output and which features are matched, from one batch of the first examples of
    /// <paramref name="inputs"/> run through both models.
    /// </summary>
    /// <exception cref="ArgumentException">The outputs differ in name or shape, or a feature pattern matches no value of the teacher.</exception>
    public static DistillationPlan Plan(GraphModule teacher, GraphModule student, IInputSource inputs, DistillationOptions options)
    {
        TorchEngine.EnsureLoaded();
        options.Validate();
        if (inputs.Count == 0) throw new ArgumentException("distillation needs inputs; the data is empty");
        var pairs = OutputPairs.Match(student, teacher, "student", "teacher");
        var teacherOutputs = teacher.Graph.Outputs.Select(o => o.Name).ToHashSet();
        var candidates = teacher.Graph.Nodes.SelectMany(n => n.Outputs)
            .Where(v => v.Length > 0 && !teacherOutputs.Contains(v) && NamePattern.MatchesAny(options.Features, v)).Distinct().ToList();
        foreach (string pattern in options.Features)
            if (!candidates.Any(v => NamePattern.MatchesAny(new[] { pattern }, v)))
                throw new ArgumentException($"feature '{pattern}' matches no intermediate value of the teacher");
        var studentValues = student.Graph.Nodes.SelectMany(n => n.Outputs).ToHashSet();
        var skipped = candidates.Where(v => !studentValues.Contains(v)).Select(v => new SkippedFeature(v, "the student has no value of that name")).ToList();
        var shared = candidates.Where(studentValues.Contains).ToList();

        using var scope = NewDisposeScope();
        using var modes = new Frozen(teacher, student);
        var batch = OnDevice(inputs.Inputs(Enumerable.Range(0, Math.Min(2, inputs.Count)).ToArray()), student);
        var (teacherFeatures, studentFeatures) = (new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>());
        var teacherOut = teacher.Run(batch, teacherFeatures, shared);
        var studentOut = student.Run(batch, studentFeatures, shared);
        var outputs = pairs.Select(p =>
        {
            OutputPairs.CheckShape(p.Name, studentOut[p.Model].shape, teacherOut[p.Reference].shape, "student", "teacher");
            var kind = OutputKinds.Of(teacher.Graph, p.Name, teacherOut[p.Reference]);
            return new DistilledValue(p.Name, kind, DistillationLosses.Resolve(options.Loss, kind), teacherOut[p.Reference].shape);
        }).ToList();
        var features = new List<DistilledValue>();
        foreach (string name in shared)
        {
            long[] t = teacherFeatures[name].shape, s = studentFeatures[name].shape;
            if (!t.SequenceEqual(s))
                skipped.Add(new SkippedFeature(name, $"[{string.Join(",", s.Skip(1))}] per example in the student, [{string.Join(",", t.Skip(1))}] in the teacher (pruned channels)"));
            else if (!teacherFeatures[name].is_floating_point())
                skipped.Add(new SkippedFeature(name, $"holds {teacherFeatures[name].dtype}, not floating-point features"));
            else
                features.Add(new DistilledValue(name, OutputKind.Embedding, options.Loss is DistillationLoss.Auto or DistillationLoss.KlDivergence ? DistillationLoss.CosineMse : options.Loss, t));
        }
        return new DistillationPlan(outputs, features, skipped);
    }

    /// <summary>
    /// Trains <paramref name="student"/> to match <paramref name="teacher"/> on <paramref name="inputs"/> for
    /// <see cref="TrainerOptions.Epochs"/> epochs of <paramref name="training"/> (its <see cref="TrainerOptions.Loss"/> is not used).
    /// The teacher is left in evaluation mode.
    /// </summary>
    /// <param name="teacher">The dense model.</param>
    /// <param name="student">The pruned model, trained in place.</param>
    /// <param name="inputs">Unlabeled inputs.</param>
    /// <param name="options">Losses and features.</param>
    /// <param name="training">Epochs, batch size, optimizer, schedule and which parameters train.</param>
    /// <param name="callbacks">Added to the trainer, e.g. <c>MaskedTraining</c> to keep an unstructured student's zeros.</param>
    /// <param name="progress">Receives training progress (the loss is the distillation loss).</param>
    /// <param name="cancellation">Stops between batches; the result then has <see cref="TrainingResult.Cancelled"/> set.</param>
    /// <exception cref="ArgumentException">The models' outputs differ (see <see cref="Plan"/>), or there is no batch to train on.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public static DistillationResult Run(GraphModule teacher, GraphModule student, IInputSource inputs, DistillationOptions options, TrainerOptions training,
        IEnumerable<ITrainingCallback>? callbacks = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var plan = Plan(teacher, student, inputs, options);
        var evaluation = Enumerable.Range(0, Math.Min(options.EvaluationExamples, inputs.Count)).ToArray();
        double before = MeanLoss(teacher, student, plan, inputs, options, evaluation, training.BatchSize);
        using var trainer = new Trainer(student, training) { Progress = progress };
        foreach (var callback in callbacks ?? []) trainer.Callbacks.Add(callback);
        teacher.eval();
        var result = trainer.Fit(inputs.Count, indices =>
        {
            var batch = OnDevice(inputs.Inputs(indices), student);
            return Loss(teacher, student, plan, options, batch);
        }, cancellation);
        double after = MeanLoss(teacher, student, plan, inputs, options, evaluation, training.BatchSize);
        return new DistillationResult(plan, result, before, after);
    }

    /// <summary>
    /// The distillation loss of one batch: the sum over outputs of each output's loss, plus
    /// <see cref="DistillationOptions.FeatureWeight"/> times the mean of the features' losses. The teacher runs without gradients.
    /// </summary>
    public static Tensor Loss(GraphModule teacher, GraphModule student, DistillationPlan plan, DistillationOptions options, IReadOnlyList<Tensor> batch)
    {
        var names = plan.Features.Select(f => f.Name).ToList();
        var (teacherFeatures, studentFeatures) = (new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>());
        Tensor[] teacherOut;
        using (no_grad()) teacherOut = teacher.Run(batch, teacherFeatures, names);
        var studentOut = student.Run(batch, studentFeatures, names);
        var (teacherNames, studentNames) = (teacher.OutputNames.ToList(), student.OutputNames.ToList());
        Tensor? total = null;
        foreach (var output in plan.Outputs)
        {
            var term = DistillationLosses.Of(output.Loss, studentOut[studentNames.IndexOf(output.Name)], teacherOut[teacherNames.IndexOf(output.Name)], options.Temperature);
            total = total is null ? term : total + term;
        }
        if (plan.Features.Count > 0 && options.FeatureWeight > 0)
        {
            Tensor? features = null;
            foreach (var feature in plan.Features)
            {
                var term = DistillationLosses.Of(feature.Loss, studentFeatures[feature.Name], teacherFeatures[feature.Name], options.Temperature);
                features = features is null ? term : features + term;
            }
            total = total! + features! * (options.FeatureWeight / plan.Features.Count);
        }
        return total!;
    }

    /// <summary>The mean loss over <paramref name="indices"/>, both models in evaluation mode (each model's mode is restored).</summary>
    public static double MeanLoss(GraphModule teacher, GraphModule student, DistillationPlan plan, IInputSource inputs, DistillationOptions options,
        IReadOnlyList<int> indices, int batchSize)
    {
        using var modes = new Frozen(teacher, student);
        double sum = 0;
        foreach (var chunk in indices.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            sum += Loss(teacher, student, plan, options, OnDevice(inputs.Inputs(chunk), student)).ToDouble() * chunk.Length;
        }
        return sum / indices.Count;
    }

    static IReadOnlyList<Tensor> OnDevice(IReadOnlyList<Tensor> batch, GraphModule model)
    {
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        return batch.Select(t => t.device == device ? t : t.to(device)).ToArray();
    }

    /// <summary>Both models in evaluation mode with gradients off; their modes are restored when disposed.</summary>
    sealed class Frozen : IDisposable
    {
        readonly (nn.Module Module, bool Training)[] _modes;
        readonly IDisposable _noGrad = no_grad();

        public Frozen(params nn.Module[] modules)
        {
            _modes = modules.Select(m => (m, m.training)).ToArray();
            foreach (var m in modules) m.eval();
        }

        public void Dispose()
        {
            _noGrad.Dispose();
            foreach (var (module, training) in _modes) module.train(training);
        }
    }
}
