using PruneSharp.Recovery;
using PruneSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Recovery;

public class DistillationTests
{
    static TrainerOptions Training(int epochs) => new()
    {
        Epochs = epochs, BatchSize = 16, Seed = 1,
        Optimizer = new OptimizerSettings(OptimizerKind.Adam, 0), Schedule = new ConstantSchedule(0.01),
    };

    [Fact]
    public void Distillation_brings_a_student_closer_to_its_teacher_without_labels()
    {
        using var teacher = RecoveryModels.Cnn(seed: 0, outputs: ["logits", "embedding"]);
        using var student = RecoveryModels.Cnn(seed: 7, conv1Channels: 2, outputs: ["logits", "embedding"]);
        var data = new RecoveryModels.RandomImages(64, seed: 3);
        var teacherWeights = teacher.Weights().ToDictionary(w => w.Key, w => w.Value.clone());

        var result = Distillation.Run(teacher, student, data, new DistillationOptions(), Training(epochs: 5));

        Assert.Equal(DistillationLoss.KlDivergence, result.Plan.Outputs.Single(o => o.Name == "logits").Loss);
        Assert.Equal(DistillationLoss.CosineMse, result.Plan.Outputs.Single(o => o.Name == "embedding").Loss);
        Assert.True(result.LossAfter < 0.5 * result.LossBefore, $"loss {result.LossBefore} -> {result.LossAfter}");
        Assert.Equal(5, result.Training.Epochs.Count);
        Assert.False(teacher.training);
        foreach (var (name, value) in teacher.Weights())
            Assert.True(value.eq(teacherWeights[name]).all().item<bool>(), $"the teacher's {name} changed");
    }

    [Fact]
    public void Features_whose_shapes_differ_are_skipped_with_the_reason_and_the_others_are_matched()
    {
        using var teacher = RecoveryModels.Cnn(seed: 0);
        using var student = RecoveryModels.Cnn(seed: 7, conv1Channels: 2);
        var data = new RecoveryModels.RandomImages(8, seed: 3);
        var plan = Distillation.Plan(teacher, student, data, new DistillationOptions { Features = ["conv*", "flat"] });
        Assert.Equal(["conv2", "flat"], plan.Features.Select(f => f.Name).Order());
        var skipped = Assert.Single(plan.Skipped);
        Assert.Equal("conv1", skipped.Name);
        Assert.Contains("[2,8,8] per example in the student, [4,8,8] in the teacher", skipped.Reason);
        Assert.Throws<ArgumentException>(() => Distillation.Plan(teacher, student, data, new DistillationOptions { Features = ["nothing*"] }));
    }

    [Fact]
    public void Outputs_that_differ_in_name_are_refused()
    {
        using var teacher = RecoveryModels.Cnn(seed: 0, outputs: ["logits"]);
        using var student = RecoveryModels.Cnn(seed: 0, outputs: ["embedding"]);
        var e = Assert.Throws<ArgumentException>(() => Distillation.Plan(teacher, student, new RecoveryModels.RandomImages(4, 0), new DistillationOptions()));
        Assert.Contains("'embedding'", e.Message);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(4.0)]
    public void Kl_with_temperature_matches_the_naive_formula_and_its_gradient(double temperature)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var student = randn(new long[] { 3, 5 }, dtype: ScalarType.Float64, generator: generator).requires_grad_();
        var teacher = randn(new long[] { 3, 5 }, dtype: ScalarType.Float64, generator: generator);

        var loss = DistillationLosses.KlDivergence(student, teacher, temperature);
        var gradient = autograd.grad([loss], [student])[0];

        // Naive: T² · (1/N) Σ_n Σ_c p_c (log p_c − log q_c), p = softmax(t/T), q = softmax(s/T), written element by element.
        double Naive(double[,] s)
        {
            double total = 0;
            for (int n = 0; n < 3; n++)
            {
                double[] p = Softmax(Enumerable.Range(0, 5).Select(c => teacher[n, c].item<double>() / temperature).ToArray());
                double[] q = Softmax(Enumerable.Range(0, 5).Select(c => s[n, c] / temperature).ToArray());
                for (int c = 0; c < 5; c++) total += p[c] * (Math.Log(p[c]) - Math.Log(q[c]));
            }
            return temperature * temperature * total / 3;
        }
        var values = new double[3, 5];
        for (int n = 0; n < 3; n++) for (int c = 0; c < 5; c++) values[n, c] = student[n, c].item<double>();
        Assert.Equal(Naive(values), loss.item<double>(), 10);
        const double h = 1e-6;
        for (int n = 0; n < 3; n++)
            for (int c = 0; c < 5; c++)
            {
                var (up, down) = ((double[,])values.Clone(), (double[,])values.Clone());
                up[n, c] += h;
                down[n, c] -= h;
                Assert.Equal((Naive(up) - Naive(down)) / (2 * h), gradient[n, c].item<double>(), 6);
            }
    }

    [Fact]
    public void Kl_is_zero_for_equal_logits_and_cosine_ignores_scale()
    {
        var x = randn(4, 6, generator: new Generator(1));
        Assert.Equal(0, DistillationLosses.KlDivergence(x, x, 3).item<float>(), 6);
        Assert.Equal(0, DistillationLosses.CosineDistance(x * 2.5, x).item<float>(), 6);
        Assert.Equal(2, DistillationLosses.CosineDistance(-x, x).item<float>(), 5);
        Assert.Equal(x.square().mean().item<float>(), DistillationLosses.MeanSquaredError(x * 2, x).item<float>(), 5);
        Assert.Throws<ArgumentException>(() => DistillationLosses.MeanSquaredError(x, x[..2]));
    }

    static double[] Softmax(double[] z)
    {
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }
}
