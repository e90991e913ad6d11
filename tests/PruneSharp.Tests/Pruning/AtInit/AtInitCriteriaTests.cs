using PruneSharp.Data;
using PruneSharp.Pruning;
using PruneSharp.Pruning.AtInit;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Masks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.AtInit;

public class AtInitCriteriaTests
{
    static List<Batch> Batches(int count, long seed, ScalarType type = ScalarType.Float32)
    {
        manual_seed(seed);
        return Enumerable.Range(0, count).Select(_ => new Batch(randn(8, 12).to(type), randint(0, 4, 8))).ToList();
    }

    static Sequential BiasFreeMlp(long seed)
    {
        manual_seed(seed);
        return nn.Sequential(("fc1", nn.Linear(12, 16, hasBias: false)), ("relu1", nn.ReLU()),
            ("fc2", nn.Linear(16, 8, hasBias: false)), ("relu2", nn.ReLU()), ("fc3", nn.Linear(8, 4, hasBias: false)));
    }

    static readonly string[] Weights = { "fc1.weight", "fc2.weight", "fc3.weight" };

    static Dictionary<string, Tensor> Gradient(Sequential model, IReadOnlyList<Batch> batches)
    {
        model.zero_grad();
        foreach (var b in batches) (nn.functional.cross_entropy(model.call(b.Inputs), b.Targets) / batches.Count).backward();
        var result = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        model.zero_grad();
        return result;
    }

    [Fact]
    public void GraSP_Hessian_gradient_product_matches_finite_differences_of_the_gradient()
    {
        using var model = TestModels.Mlp(3);
        model.to(ScalarType.Float64);
        var batches = Batches(2, 4, ScalarType.Float64);
        var (product, mean) = HessianGradientProduct.Compute(model, batches, Weights);
        // H ḡ ≈ (∇L(θ + ε ḡ) − ∇L(θ − ε ḡ)) / 2ε over the same parameters (biases held fixed).
        const double eps = 1e-5;
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Dictionary<string, Tensor> Shifted(double sign)
        {
            using (no_grad()) foreach (string n in Weights) parameters[n].add_(mean[n].to(ScalarType.Float64) * (sign * eps));
            var g = Gradient(model, batches);
            using (no_grad()) foreach (string n in Weights) parameters[n].sub_(mean[n].to(ScalarType.Float64) * (sign * eps));
            return g;
        }
        var plus = Shifted(1);
        var minus = Shifted(-1);
        foreach (string n in Weights)
        {
            var expected = (plus[n] - minus[n]) / (2 * eps);
            Assert.True(expected.abs().max().item<double>() > 1e-4, $"{n}: the curvature along ḡ is not trivially zero");
            Assert.True(product[n].to(ScalarType.Float64).allclose(expected, rtol: 1e-3, atol: 1e-6),
                $"{n}: max difference {(product[n].to(ScalarType.Float64) - expected).abs().max().item<double>()}");
        }
    }

    [Fact]
    public void GraSP_scores_w_times_Hg_so_the_papers_highest_scores_are_removed()
    {
        using var model = TestModels.Mlp(3);
        var batches = Batches(2, 4);
        var context = new GraspCriterion().Observe(model, batches, Weights);
        var w = model.named_parameters().First(p => p.name == "fc2.weight").parameter;
        var hg = context.Statistic(GraspCriterion.Statistic, "fc2.weight");
        var score = new GraspCriterion().Score("fc2.weight", w, context);
        Assert.True(score.allclose(w.detach() * hg));
        // Pruning half keeps the weights whose paper score S = −w ⊙ Hg is lowest.
        using var masks = new MaskSet(model);
        new Pruner(masks, new GraspCriterion(), new PruneSharp.Pruning.Granularity.ElementGranularity()).Prune(0.5, context);
        var s = -score;
        var keep = masks.Mask("fc2.weight");
        Assert.True(s.masked_select(keep).max().item<float>() <= s.masked_select(keep.logical_not()).min().item<float>());
    }

    [Fact]
    public void SynFlow_conserves_flow_through_every_layer_and_ignores_the_data()
    {
        using var model = BiasFreeMlp(5);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var scores = SynFlowCriterion.Scores(model, new long[] { 1, 12 }, Weights);
        var sums = Weights.Select(n => scores[n].to(ScalarType.Float64).sum().item<double>()).ToArray();
        // Σ over a layer of w ∂R/∂w = R for every layer of a bias-free ReLU network (R is linear in each layer).
        using (no_grad())
        {
            var positive = nn.Sequential(nn.Linear(12, 16, hasBias: false), nn.ReLU(), nn.Linear(16, 8, hasBias: false), nn.ReLU(), nn.Linear(8, 4, hasBias: false));
            var layers = positive.parameters().ToList();
            for (int i = 0; i < 3; i++) layers[i].copy_(before[Weights[i]].abs());
            double r = positive.call(ones(1, 12)).sum().item<float>();
            foreach (double sum in sums) Assert.Equal(r, sum, r * 1e-5);
        }
        // Signs restored.
        foreach (var (name, p) in model.named_parameters()) Assert.True(TestModels.Same(p.detach(), before[name]));
        // The batches' values do not matter, only their shape.
        var a = new SynFlowCriterion().Observe(model, Batches(1, 7), Weights);
        var b = new SynFlowCriterion().Observe(model, Batches(3, 8), Weights);
        foreach (string n in Weights)
            Assert.True(TestModels.Same(a.Statistic(SynFlowCriterion.Statistic, n), b.Statistic(SynFlowCriterion.Statistic, n)));
    }

    [Fact]
    public void SNIP_Taylor_and_OBD_equal_their_naive_per_weight_formulas()
    {
        using var model = TestModels.Mlp(6);
        var batches = Batches(3, 9);
        var perBatch = batches.Select(b => Gradient(model, new[] { b })).ToList();
        var stats = GradientStatistics.Collect(model, batches, Weights);
        var context = stats.Context();
        foreach (var (name, w) in model.named_parameters().Where(p => Weights.Contains(p.name)))
        {
            var mean = perBatch.Select(g => g[name]).Aggregate((x, y) => x + y) / 3;
            var taylor = perBatch.Select(g => (g[name] * w.detach()).abs()).Aggregate((x, y) => x + y) / 3;
            var fisher = perBatch.Select(g => g[name].square()).Aggregate((x, y) => x + y) / 3;
            Assert.True(new SnipCriterion().Score(name, w, context).allclose((w.detach() * mean).abs(), rtol: 1e-4, atol: 1e-7));
            Assert.True(new TaylorCriterion().Score(name, w, context).allclose(taylor, rtol: 1e-4, atol: 1e-7));
            Assert.True(new ObdCriterion().Score(name, w, context).allclose(0.5 * w.detach().square() * fisher, rtol: 1e-4, atol: 1e-9));
        }
    }

    [Fact]
    public void Layer_collapse_is_reported_for_an_emptied_layer()
    {
        using var model = TestModels.Mlp(1);
        using var masks = new MaskSet(model);
        var keep = ones(8, 16, dtype: ScalarType.Bool);
        keep[.., 3] = tensor(false);
        keep[2] = tensor(false);
        masks.Prune("fc2.weight", keep);
        masks.Prune("fc1.weight", ones(16, 12, dtype: ScalarType.Bool));
        var report = LayerCollapseReport.Measure(masks);
        var fc2 = report.Layers.Single(l => l.Name == "fc2.weight");
        Assert.Equal((8L, 7L, 16L, 15L, 7L * 15), (fc2.Outputs, fc2.LiveOutputs, fc2.Inputs, fc2.LiveInputs, fc2.Kept));
        Assert.True(report.PathSurvives);
        Assert.Empty(report.Warnings);

        masks.Prune("fc2.weight", zeros(8, 16, dtype: ScalarType.Bool));
        report = LayerCollapseReport.Measure(masks);
        Assert.False(report.PathSurvives);
        Assert.Contains("'fc2.weight' keeps none", Assert.Single(report.Warnings));
    }

    [Fact]
    public void SynFlow_at_99_9_percent_keeps_every_layer_where_one_shot_magnitude_may_not()
    {
        using var model = TestModels.Mlp(2);
        using var masks = new MaskSet(model);
        var result = PruningAtInitialization.Prune(masks, new AtInitOptions { Method = AtInitMethod.SynFlow, Sparsity = 0.97, Rounds = 20 }, Batches(1, 3));
        Assert.True(result.Collapse.PathSurvives, string.Join("; ", result.Collapse.Warnings));
        Assert.Equal(0.97, result.Sparsity, 0.01);
        Assert.Equal(20, result.Rounds);
    }
}
