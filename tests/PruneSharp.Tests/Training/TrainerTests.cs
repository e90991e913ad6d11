using PruneSharp.Data;
using PruneSharp.Engine;
using PruneSharp.Tests.Support;
using PruneSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Training;

public class TrainerTests
{
    public TrainerTests() => TorchEngine.EnsureLoaded();

    internal sealed class Recorder(Action<string, TrainingContext>? onEvent = null) : ITrainingCallback
    {
        public List<string> Events { get; } = new();

        void Record(string name, TrainingContext c)
        {
            Events.Add(name);
            onEvent?.Invoke(name, c);
        }

        public void OnEpochStart(TrainingContext c) => Record("epoch-start", c);
        public void OnBatchStart(TrainingContext c) => Record("batch-start", c);
        public void OnBeforeOptimizerStep(TrainingContext c) => Record("before-step", c);
        public void OnAfterOptimizerStep(TrainingContext c) => Record("after-step", c);
        public void OnEpochEnd(TrainingContext c, EpochSummary s) => Record("epoch-end", c);
    }

    [Fact]
    public void Fit_learns_a_separable_rule_and_the_evaluator_agrees()
    {
        var model = TinyModels.Mlp(1);
        var data = TinyModels.Columns(600, 1);
        data.Normalization = data.ComputeNormalization();
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 8, BatchSize = 32, Seed = 1,
            Optimizer = new OptimizerSettings(OptimizerKind.Adam), Schedule = new ConstantSchedule(0.01),
        });
        var reports = new List<TrainingProgress>();
        trainer.Progress = new SynchronousProgress<TrainingProgress>(reports.Add);
        var result = trainer.Fit(data);
        Assert.False(result.Cancelled);
        Assert.Equal(new TrainingPosition(8, 0, 8 * 19), result.Position);
        Assert.True(result.Epochs[^1].Loss < result.Epochs[0].Loss);
        Assert.True(result.Epochs[^1].Accuracy > 0.9, $"training accuracy {result.Epochs[^1].Accuracy}");
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.True(r.SamplesPerSecond > 0));

        var test = TinyModels.Columns(300, 2);
        test.Normalization = data.Normalization;
        var metrics = Evaluator.Classify(model, test);
        Assert.True(metrics.Top1 > 0.9, $"test accuracy {metrics.Top1}");
        Assert.Equal(1.0, metrics.Top5);
        Assert.True(model.training);
    }

    [Fact]
    public void Callbacks_run_in_loop_order_with_gradients_ready_before_the_step()
    {
        var model = TinyModels.Mlp(2);
        var data = TinyModels.Columns(10, 3);
        float[]? before = null;
        var recorder = new Recorder((name, c) =>
        {
            if (name == "before-step")
            {
                Assert.All(c.Model.parameters(), p => Assert.NotNull(p.grad));
                Assert.NotNull(c.Loss);
                before = TinyModels.Weights(c.Model);
            }
            if (name == "after-step") Assert.NotEqual(before, TinyModels.Weights(c.Model));
        });
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 2, BatchSize = 4, Schedule = new ConstantSchedule(0.1) });
        trainer.Callbacks.Add(recorder);
        trainer.Fit(data);
        string[] batch = ["batch-start", "before-step", "after-step"];
        string[] epoch = ["epoch-start", .. batch, .. batch, .. batch, "epoch-end"];
        Assert.Equal([.. epoch, .. epoch], recorder.Events);
    }

    /// <summary>The pruning pattern: mask gradients before the step, zero masked weights after it.</summary>
    sealed class MaskCallback(Tensor mask, string parameter) : ITrainingCallback
    {
        public void OnBeforeOptimizerStep(TrainingContext c) => c.Model.get_parameter(parameter)!.grad!.mul_(mask);

        public void OnAfterOptimizerStep(TrainingContext c)
        {
            using (no_grad()) c.Model.get_parameter(parameter)!.mul_(mask);
        }

        public void SaveState(IDictionary<string, Tensor> extra) => extra["mask." + parameter] = mask;
    }

    [Fact]
    public void Masked_weights_stay_zero_under_momentum_and_weight_decay()
    {
        var model = TinyModels.Mlp(3);
        var weight = model.get_parameter("fc1.weight")!;
        var mask = (rand(weight.shape) > 0.5).to_type(ScalarType.Float32);
        using (no_grad()) weight.mul_(mask);
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 3, BatchSize = 8, Seed = 3,
            Optimizer = new OptimizerSettings(Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4), Schedule = new ConstantSchedule(0.05),
        });
        trainer.Callbacks.Add(new MaskCallback(mask, "fc1.weight"));
        trainer.Fit(TinyModels.Columns(64, 4));
        var w = weight.detach().data<float>().ToArray();
        var m = mask.data<float>().ToArray();
        Assert.All(Enumerable.Range(0, w.Length).Where(i => m[i] == 0), i => Assert.Equal(0f, w[i]));
        Assert.Contains(Enumerable.Range(0, w.Length), i => m[i] == 1 && w[i] != 0);
    }

    [Fact]
    public void Extra_state_travels_through_a_checkpoint()
    {
        using var dir = new TempFolder();
        var model = TinyModels.Mlp(4);
        var mask = ones(24, 16);
        mask[0, 0] = 0;
        using (var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 8, CheckpointPath = dir.File("c.ckpt") }))
        {
            trainer.Callbacks.Add(new MaskCallback(mask, "fc1.weight"));
            trainer.Fit(TinyModels.Columns(16, 1));
        }
        using var again = new Trainer(TinyModels.Mlp(5), new TrainerOptions { Epochs = 1, BatchSize = 8 });
        again.LoadCheckpoint(dir.File("c.ckpt"));
        Assert.Equal(mask.data<float>().ToArray(), again.ExtraState["mask.fc1.weight"].data<float>().ToArray());
        Assert.Equal(TinyModels.Weights(model), TinyModels.Weights(again.Model));

        // Weights alone (e.g. rewinding a pruned network to saved weights) load without a trainer.
        using var checkpoint = Checkpoint.Read(dir.File("c.ckpt"));
        var fresh = TinyModels.Mlp(6);
        checkpoint.LoadModel(fresh);
        Assert.Equal(TinyModels.Weights(model), TinyModels.Weights(fresh));
        Assert.Equal(new TrainingPosition(1, 0, 2), checkpoint.Position);
    }

    [Fact]
    public void Each_step_uses_the_schedule_rate_at_its_step_and_rewinding_moves_it_back()
    {
        var schedule = new StepSchedule(0.1, 3, 0.5).WithWarmup(2);
        var rates = new List<(long Step, double Rate)>();
        var model = TinyModels.Mlp(6);
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 3, BatchSize = 5, Schedule = schedule });
        trainer.Callbacks.Add(new Recorder((name, c) =>
        {
            if (name == "before-step") rates.Add((c.Position.Step, c.Optimizer.ParamGroups.First().LearningRate));
        }));
        trainer.Fit(TinyModels.Columns(20, 6));
        Assert.Equal(12, rates.Count);
        Assert.All(rates, r => Assert.Equal(schedule.At(r.Step), r.Rate));

        rates.Clear();
        trainer.Rewind(TrainingPosition.AtEpoch(1, 4));
        trainer.Fit(TinyModels.Columns(20, 6));
        Assert.Equal(Enumerable.Range(4, 8).Select(s => (long)s), rates.Select(r => r.Step));
        Assert.All(rates, r => Assert.Equal(schedule.At(r.Step), r.Rate));
    }

    [Fact]
    public void Gradient_clipping_bounds_the_update_norm()
    {
        var model = TinyModels.Mlp(8, dropout: 0);
        float[]? before = null;
        var norms = new List<double>();
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 8, ClipGradientNorm = 1e-3, Schedule = new ConstantSchedule(1.0) });
        trainer.Callbacks.Add(new Recorder((name, c) =>
        {
            if (name == "before-step") before = TinyModels.Weights(c.Model);
            if (name == "after-step")
                norms.Add(Math.Sqrt(TinyModels.Weights(c.Model).Zip(before!, (a, b) => (double)(a - b) * (a - b)).Sum()));
        }));
        trainer.Fit(TinyModels.Columns(32, 8));
        Assert.All(norms, n => Assert.Equal(1e-3, n, 6));
    }

    /// <summary>Runs the optimizer on a linear model and checks every step against the update rule written out by hand.</summary>
    [Theory]
    [InlineData(OptimizerKind.Sgd, 0.9, false)]
    [InlineData(OptimizerKind.Sgd, 0.9, true)]
    [InlineData(OptimizerKind.Adam, 0, false)]
    [InlineData(OptimizerKind.AdamW, 0, false)]
    public void Optimizer_steps_follow_the_update_rule(OptimizerKind kind, double momentum, bool nesterov)
    {
        manual_seed(9);
        var model = nn.Sequential(("flatten", nn.Flatten()), ("fc", nn.Linear(16, 3)));
        var settings = new OptimizerSettings(kind, momentum, nesterov, WeightDecay: 0.01);
        const double lr = 0.05;
        int n = TinyModels.Weights(model).Length;
        double[] w = TinyModels.Weights(model).Select(v => (double)v).ToArray(), buf = new double[n], m = new double[n], v = new double[n];
        int t = 0;
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 2, BatchSize = 8, Optimizer = settings, Schedule = new ConstantSchedule(lr) });
        trainer.Callbacks.Add(new Recorder((name, c) =>
        {
            if (name != "before-step") return;
            var g = c.Model.parameters().SelectMany(p => p.grad!.data<float>().ToArray()).Select(x => (double)x).ToArray();
            t++;
            for (int i = 0; i < n; i++)
            {
                if (kind == OptimizerKind.Sgd)
                {
                    double d = g[i] + 0.01 * w[i];
                    buf[i] = t == 1 ? d : momentum * buf[i] + d;
                    w[i] -= lr * (nesterov ? d + momentum * buf[i] : buf[i]);
                    continue;
                }
                double gi = kind == OptimizerKind.Adam ? g[i] + 0.01 * w[i] : g[i];
                if (kind == OptimizerKind.AdamW) w[i] -= lr * 0.01 * w[i];
                m[i] = 0.9 * m[i] + 0.1 * gi;
                v[i] = 0.999 * v[i] + 0.001 * gi * gi;
                double mHat = m[i] / (1 - Math.Pow(0.9, t)), vHat = v[i] / (1 - Math.Pow(0.999, t));
                w[i] -= lr * mHat / (Math.Sqrt(vHat) + 1e-8);
            }
        }));
        trainer.Callbacks.Add(new Recorder((name, c) =>
        {
            if (name == "after-step")
                Assert.Equal(w, TinyModels.Weights(c.Model).Select(x => (double)x), (a, b) => Math.Abs(a - b) < 1e-5);
        }));
        trainer.Fit(TinyModels.Columns(24, 9));
        Assert.Equal(6, t);
    }

    [Fact]
    public void Bad_checkpoints_are_named_and_explained()
    {
        using var dir = new TempFolder();
        using var trainer = new Trainer(TinyModels.Mlp(1), new TrainerOptions { Epochs = 1, BatchSize = 8 });
        Assert.Contains("does not exist", Assert.Throws<CheckpointException>(() => trainer.LoadCheckpoint(dir.File("none.ckpt"))).Message);

        File.WriteAllText(dir.File("text.ckpt"), "hello, not a checkpoint");
        Assert.Contains("wrong magic", Assert.Throws<CheckpointException>(() => trainer.LoadCheckpoint(dir.File("text.ckpt"))).Message);

        trainer.SaveCheckpoint(dir.File("good.ckpt"));
        var bytes = File.ReadAllBytes(dir.File("good.ckpt"));
        File.WriteAllBytes(dir.File("cut.ckpt"), bytes[..(bytes.Length / 2)]);
        var cut = Assert.Throws<CheckpointException>(() => trainer.LoadCheckpoint(dir.File("cut.ckpt")));
        Assert.Equal(dir.File("cut.ckpt"), cut.Path);

        manual_seed(0);
        var other = nn.Sequential(("flatten", nn.Flatten()), ("fc1", nn.Linear(16, 5)), ("relu", nn.ReLU()), ("drop", nn.Dropout(0.2)), ("fc2", nn.Linear(5, 3)));
        using var mismatched = new Trainer(other, new TrainerOptions { Epochs = 1, BatchSize = 8 });
        var e = Assert.Throws<CheckpointException>(() => mismatched.LoadCheckpoint(dir.File("good.ckpt")));
        Assert.Contains("'fc1.weight' is Float32 [24,16] in the checkpoint but Float32 [5,16] in the model", e.Message);
        using var smaller = new Trainer(nn.Sequential(("flatten", nn.Flatten()), ("fc1", nn.Linear(16, 24))), new TrainerOptions { Epochs = 1, BatchSize = 8 });
        Assert.Contains("unexpected fc2.bias, fc2.weight", Assert.Throws<CheckpointException>(() => smaller.LoadCheckpoint(dir.File("good.ckpt"))).Message);

        using var reseeded = new Trainer(TinyModels.Mlp(1), new TrainerOptions { Epochs = 1, BatchSize = 8, Seed = 5 });
        Assert.Contains("seed", Assert.Throws<CheckpointException>(() => reseeded.LoadCheckpoint(dir.File("good.ckpt"))).Message);
    }

    [Fact]
    public void Output_that_does_not_fit_the_targets_fails_before_backward()
    {
        manual_seed(0);
        var model = nn.Sequential(("flatten", nn.Flatten()), ("fc", nn.Linear(16, 3)), ("pool", nn.Flatten(0)));
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 4 });
        var e = Assert.Throws<ArgumentException>(() => trainer.Fit(TinyModels.Columns(8, 1)));
        Assert.Contains("class dimension", e.Message);
    }

    [Fact]
    public void Non_finite_loss_stops_training_with_its_position()
    {
        var model = TinyModels.Mlp(2);
        using (no_grad()) model.get_parameter("fc2.bias")![0] = float.NaN;
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 4 });
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(TinyModels.Columns(8, 1)));
        Assert.Contains("epoch 0, batch 0", e.Message);
    }
}

/// <summary>Reports on the calling thread (System.Progress posts to the thread pool).</summary>
sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
