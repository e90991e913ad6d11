using System.Diagnostics;
using PruneSharp.Data;
using PruneSharp.Engine;
using PruneSharp.Files;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Training;

/// <summary>
/// Seeded, resumable mini-batch training of any TorchSharp <c>Module&lt;Tensor, Tensor&gt;</c>, with callbacks around
/// every optimizer step (the pruning hooks), a learning rate that is a function of the step, checkpoints, and
/// cancellation. On CPU with a fixed thread count, a run that is cancelled and resumed from its checkpoint ends with
/// weights bit-identical to an uninterrupted run.
/// </summary>
public sealed class Trainer : IDisposable
{
    readonly Parameter[] _parameters;
    bool _seeded;

    /// <summary>
    /// A trainer for <paramref name="model"/>; the optimizer is created now over the parameters that
    /// <see cref="TrainerOptions.Trainable"/> selects (<see cref="Selection"/>). The others never change: they are not
    /// in the optimizer, so neither its steps nor weight decay reach them.
    /// </summary>
    /// <exception cref="ArgumentException">No parameter is selected for training.</exception>
    public Trainer(nn.Module<Tensor, Tensor> model, TrainerOptions options)
    {
        TorchEngine.EnsureLoaded();
        options.Validate();
        Model = model;
        Options = options;
        Selection = options.Trainable.Select(model);
        var trained = Selection.Trained.ToHashSet(StringComparer.Ordinal);
        _parameters = model.named_parameters().Where(p => trained.Contains(p.name)).Select(p => p.parameter).ToArray();
        if (_parameters.Length == 0)
            throw new ArgumentException(Selection.Frozen.Count == 0 ? "the model has no parameters to train"
                : $"no parameter is selected for training (frozen: {TrainableParameters.Describe(Selection.Frozen.Select(f => $"{f.Name} ({f.Reason})").ToList(), 3)})");
        Optimizer = options.Optimizer.Create(_parameters, options.Schedule.At(0));
    }

    /// <summary>The parameters this trainer changes and those it leaves frozen.</summary>
    public TrainableSelection Selection { get; }

    /// <summary>The model being trained.</summary>
    public nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>The run's settings.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The optimizer (its state is part of checkpoints).</summary>
    public OptimizerHelper Optimizer { get; private set; }

    /// <summary>Where training stands: the next batch and the optimizer steps taken.</summary>
    public TrainingPosition Position { get; private set; }

    /// <summary>Called around every step and epoch, in order.</summary>
    public IList<ITrainingCallback> Callbacks { get; } = new List<ITrainingCallback>();

    /// <summary>
    /// Named tensors saved in and restored from checkpoints (callbacks add theirs through <see cref="ITrainingCallback.SaveState"/>).
    /// The trainer never disposes them: they belong to whoever put them here (after a load, to the caller).
    /// </summary>
    public IDictionary<string, Tensor> ExtraState { get; } = new Dictionary<string, Tensor>();

    /// <summary>Receives progress every <see cref="TrainerOptions.ProgressInterval"/> batches and at each epoch's end.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>
    /// Trains on <paramref name="data"/> from <see cref="Position"/> up to <see cref="TrainerOptions.Epochs"/>.
    /// When <paramref name="cancellation"/> is signalled, the run stops before the next batch, writes a checkpoint
    /// (if <see cref="TrainerOptions.CheckpointPath"/> is set) and returns with <see cref="TrainingResult.Cancelled"/> set.
    /// </summary>
    /// <exception cref="ArgumentException">The data set yields no batch, or the model's output does not fit the targets.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite (before that batch's update).</exception>
    public TrainingResult Fit(IDataset data, CancellationToken cancellation = default) => Fit(data, null, data.Count, cancellation);

    /// <summary>
    /// Trains with a loss that the caller computes, for objectives that are not one output against one target (such
    /// as distillation from a teacher, or a model with several inputs or outputs): for every batch of
    /// <paramref name="count"/> examples known by index, <paramref name="objective"/> runs the model and returns the
    /// batch's mean loss. Batch order, learning rate, callbacks, checkpoints and cancellation are those of
    /// <see cref="Fit(IDataset, CancellationToken)"/>; <see cref="TrainingContext.Batch"/> is <c>null</c> and no
    /// accuracy is reported.
    /// </summary>
    /// <exception cref="ArgumentException">There are too few examples for a batch.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite (before that batch's update).</exception>
    public TrainingResult Fit(int count, BatchObjective objective, CancellationToken cancellation = default) => Fit(null, objective, count, cancellation);

    TrainingResult Fit(IDataset? data, BatchObjective? objective, int count, CancellationToken cancellation)
    {
        var plan = new BatchPlan(Options.BatchSize, Options.Shuffle, Options.Seed, Options.DropLast);
        int batches = plan.BatchesPerEpoch(count);
        if (batches == 0)
            throw new ArgumentException($"a data set of {count} examples gives no batch of {Options.BatchSize}{(Options.DropLast ? " (the incomplete last batch is dropped)" : "")}");
        int threads = get_num_threads();
        if (Options.Threads is { } wanted) set_num_threads(wanted);
        try
        {
            if (!_seeded && Position == TrainingPosition.Start) manual_seed(Options.Seed);
            _seeded = true;
            Model.train();
            return Run(data, objective, count, plan, batches, cancellation);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    TrainingResult Run(IDataset? data, BatchObjective? objective, int count, BatchPlan plan, int batches, CancellationToken cancellation)
    {
        var context = new TrainingContext(this, cancellation);
        var summaries = new List<EpochSummary>();
        var device = _parameters[0].device;
        while (Position.Epoch < Options.Epochs)
        {
            if (cancellation.IsCancellationRequested) return Stop(summaries);
            int epoch = Position.Epoch;
            if (Position.Batch == 0)
                foreach (var callback in Callbacks) callback.OnEpochStart(context);
            var indices = plan.Indices(count, epoch);
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            long samples = 0, positions = 0, correct = 0;
            bool logits = true;
            for (int b = Position.Batch; b < batches; b++)
            {
                if (cancellation.IsCancellationRequested) return Stop(summaries);
                using var scope = NewDisposeScope();
                var batch = data?.GetBatch(indices[b], plan.AugmentationStream(epoch, b));
                double rate = Options.Schedule.At(Position.Step);
                foreach (var group in Optimizer.ParamGroups) group.LearningRate = rate;
                context.LearningRate = rate;
                context.Batch = batch;
                context.SkipOptimizerStep = false;
                foreach (var callback in Callbacks) callback.OnBatchStart(context);

                Optimizer.zero_grad();
                Tensor? output = null, targets = null;
                Tensor loss;
                if (batch is null) loss = objective!(indices[b]);
                else
                {
                    targets = batch.Targets.to(device);
                    output = Model.call(batch.Inputs.to(device));
                    loss = Options.Loss(output, targets);
                }
                double lossValue = loss.ToDouble();
                if (!double.IsFinite(lossValue))
                    throw new TrainingDivergedException($"the loss is {lossValue} at epoch {epoch}, batch {b} (step {Position.Step}, learning rate {rate:G4}); " +
                        "the weights are those before this batch: lower the learning rate, clip gradients, or check the inputs");
                context.Loss = loss;
                loss.backward();
                foreach (var callback in Callbacks) callback.OnBeforeOptimizerStep(context);
                if (!context.SkipOptimizerStep)
                {
                    if (Options.ClipGradientNorm is { } clip) nn.utils.clip_grad_norm_(_parameters, clip);
                    StepWithoutCollection(Optimizer);
                }
                Position = new TrainingPosition(epoch, b + 1, Position.Step + 1);
                foreach (var callback in Callbacks) callback.OnAfterOptimizerStep(context);

                int examples = batch?.Count ?? indices[b].Length;
                lossSum += lossValue * examples;
                samples += examples;
                logits &= output is not null && output.dim() == targets!.dim() + 1 && output.shape[..^1].SequenceEqual(targets.shape);
                if (logits)
                    using (no_grad())
                    {
                        correct += output!.argmax(-1).eq(targets!).sum().item<long>();
                        positions += targets!.numel();
                    }
                context.Batch = null;
                context.Loss = null;
                if ((b + 1) % Options.ProgressInterval == 0 || b + 1 == batches)
                    Progress?.Report(new TrainingProgress(Position, Options.Epochs, batches, lossSum / samples,
                        logits ? (double)correct / positions : null, samples / clock.Elapsed.TotalSeconds, rate));
            }
            Position = new TrainingPosition(epoch + 1, 0, Position.Step);
            var summary = new EpochSummary(epoch, samples > 0 ? lossSum / samples : double.NaN,
                logits && positions > 0 ? (double)correct / positions : null, samples, clock.Elapsed);
            summaries.Add(summary);
            foreach (var callback in Callbacks) callback.OnEpochEnd(context, summary);
            if (Options.CheckpointPath is { } path) SaveCheckpoint(path);
        }
        return new TrainingResult(Position, false, summaries);
    }

    TrainingResult Stop(List<EpochSummary> summaries)
    {
        if (Options.CheckpointPath is { } path) SaveCheckpoint(path);
        return new TrainingResult(Position, true, summaries);
    }

    /// <summary>Writes a checkpoint of the current state to <paramref name="path"/> (atomically).</summary>
    public void SaveCheckpoint(string path)
    {
        foreach (var callback in Callbacks) callback.SaveState(ExtraState);
        using var optimizerState = new MemoryStream();
        using (var writer = new BinaryWriter(optimizerState, System.Text.Encoding.UTF8, leaveOpen: true))
            Optimizer.save_state_dict(writer);
        using var random = get_rng_state();
        new Checkpoint
        {
            Position = Position,
            DataSeed = Options.Seed,
            Model = Model.state_dict(),
            Optimizer = (Optimizer.GetType().Name, optimizerState.ToArray()),
            RandomState = random,
            Extra = new Dictionary<string, Tensor>(ExtraState),
            Fingerprint = Options.Fingerprint,
        }.Write(path);
    }

    /// <summary>
    /// Restores model, optimizer, position, libtorch's generator and the extra state from <paramref name="path"/>;
    /// the next <see cref="Fit(IDataset, CancellationToken)"/> continues from there.
    /// </summary>
    /// <exception cref="CheckpointException">The file is missing or malformed, was written with another seed or optimizer, or does not fit the model.</exception>
    /// <exception cref="RunStateException">The checkpoint records another <see cref="TrainerOptions.Fingerprint"/>; the message names the differing keys.</exception>
    public void LoadCheckpoint(string path)
    {
        using var checkpoint = Checkpoint.Read(path);
        if (Options.Fingerprint is { } fingerprint && checkpoint.Fingerprint is { } recorded) fingerprint.Check(recorded, path);
        if (checkpoint.DataSeed != Options.Seed)
            throw new CheckpointException(path, $"checkpoint was written with seed {checkpoint.DataSeed}, this run uses {Options.Seed}");
        if (checkpoint.Optimizer.Type != Optimizer.GetType().Name)
            throw new CheckpointException(path, $"checkpoint holds {checkpoint.Optimizer.Type} state, this run uses {Optimizer.GetType().Name}");
        checkpoint.LoadModel(Model);
        try
        {
            using var reader = new BinaryReader(new MemoryStream(checkpoint.Optimizer.State));
            Optimizer.load_state_dict(reader);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException)
        {
            throw new CheckpointException(path, $"optimizer state does not fit: {e.Message}", e);
        }
        set_rng_state(checkpoint.RandomState);
        ExtraState.Clear();
        foreach (var (name, value) in checkpoint.Extra) ExtraState[name] = value.clone();
        foreach (var callback in Callbacks) callback.LoadState(new Dictionary<string, Tensor>(ExtraState));
        Position = checkpoint.Position;
        _seeded = true;
    }

    /// <summary>
    /// Moves the run back (or forward) to <paramref name="position"/> keeping the current weights: the learning rate
    /// continues from that step's value and batches from that epoch's order. This is learning-rate rewinding
    /// (Renda et al., 2020) after pruning; <paramref name="resetOptimizer"/> starts the optimizer's state afresh.
    /// </summary>
    public void Rewind(TrainingPosition position, bool resetOptimizer = true)
    {
        if (position.Epoch < 0 || position.Batch < 0 || position.Step < 0)
            throw new ArgumentOutOfRangeException(nameof(position), position, "position must be non-negative");
        Position = position;
        if (resetOptimizer)
        {
            Optimizer.Dispose();
            Optimizer = Options.Optimizer.Create(_parameters, Options.Schedule.At(position.Step));
        }
    }

    /// <summary>
    /// Runs the optimizer step with no garbage collection inside it. TorchSharp 0.107's optimizers pass temporary
    /// <c>Scalar</c>s (learning rate, momentum, weight decay) to native calls; in Release builds such a temporary can
    /// be collected, and its native value freed, while the call still reads it, which aborts the process ("Unknown
    /// scalar type" in libtorch; seen in about 1 of 7 Release training runs). The step allocates little managed memory,
    /// so a no-GC region of 64 MB covers it; if the runtime cannot grant one, the step runs as before.
    /// </summary>
    static void StepWithoutCollection(optim.Optimizer optimizer)
    {
        bool region = false;
        try { region = GC.TryStartNoGCRegion(64L << 20); }
        catch (InvalidOperationException) { } // already inside a region
        try
        {
            optimizer.step();
        }
        finally
        {
            if (region && System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Optimizer.Dispose();
    }
}
