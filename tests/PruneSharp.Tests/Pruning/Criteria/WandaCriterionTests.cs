using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Tests.Recovery;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Criteria;

public class WandaCriterionTests
{
    static readonly string Encoder = Path.Combine(AppContext.BaseDirectory, "Pruning", "Structured", "Fixtures", "bert_tiny_opset14.onnx");

    [Fact]
    public void Wanda_scores_a_matmul_weight_by_magnitude_times_the_norm_of_the_input_row_it_multiplies()
    {
        using var model = OnnxFile.Load(Encoder);
        manual_seed(3);
        var ids = randint(4, 100, new long[] { 3, 9 });
        var batches = new[] { (IReadOnlyList<Tensor>)new[] { ids, ones_like(ids), zeros_like(ids) }, new[] { ids.flip(1), ones_like(ids), zeros_like(ids) } };
        var node = model.Graph.Nodes.Single(n => n.Name == "/layers.0/intermediate/MatMul");
        string weight = node.Inputs[1];
        var criterion = new WandaCriterion();
        var context = criterion.ObserveInputs(model, batches, new[] { weight });

        // The naive reference: the input of the MatMul captured on each batch, its squares summed per input row.
        var sum = zeros(32, dtype: ScalarType.Float64);
        foreach (var batch in batches)
        {
            var captured = new Dictionary<string, Tensor>();
            using (no_grad()) model.Run(batch, captured, new[] { node.Inputs[0] });
            var x = captured[node.Inputs[0]].to(ScalarType.Float64).reshape(-1, 32);
            for (int j = 0; j < 32; j++) sum[j] += x[.., j].square().sum();
        }
        var w = model.Weights()[weight];
        var expected = w.abs() * sum.sqrt().to(ScalarType.Float32).reshape(32, 1);
        Assert.True(criterion.Score(weight, w, context).allclose(expected, rtol: 1e-5, atol: 1e-7));
    }

    [Fact]
    public void Wanda_scores_conv_filters_by_the_norm_of_each_input_channel_and_refuses_a_weight_it_did_not_observe()
    {
        using var model = RecoveryModels.Cnn(seed: 0);
        var images = new RecoveryModels.RandomImages(6, seed: 2);
        var batch = images.Inputs(Enumerable.Range(0, 6).ToArray());
        var conv = model.Graph.Nodes.First(n => n.OpType == "Conv" && !model.Graph.Inputs.Any(i => i.Name == n.Inputs[0]));
        string weight = conv.Inputs[1];
        var criterion = new WandaCriterion();
        var context = criterion.ObserveInputs(model, new[] { batch }, new[] { weight });

        // The criterion observes in evaluation mode (BatchNorm on its running statistics); so does the reference.
        model.eval();
        var captured = new Dictionary<string, Tensor>();
        using (no_grad()) model.Run(batch, captured, new[] { conv.Inputs[0] });
        var norms = captured[conv.Inputs[0]].to(ScalarType.Float64).square().sum(new long[] { 0, 2, 3 }).sqrt().to(ScalarType.Float32);
        var w = model.Weights()[weight];
        var expected = w.abs() * norms.reshape(1, -1, 1, 1);
        Assert.True(criterion.Score(weight, w, context).allclose(expected, rtol: 1e-5, atol: 1e-7));

        string other = model.Graph.Nodes.First(n => n.OpType is "Gemm" or "MatMul").Inputs[1];
        var error = Assert.Throws<PruningException>(() => criterion.Score(other, model.Weights()[other], context));
        Assert.Contains($"--exclude {other}", error.Message);
    }
}
