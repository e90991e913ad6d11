using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class DropoutTests
{
    [Fact]
    public void Dropout_in_eval_mode_is_the_identity_with_an_all_true_mask()
    {
        var x = randn(4, 5);
        var outputs = Run("Dropout", new[] { x, tensor(0.5f) }, outputs: 2, opset: 13);
        AssertClose(x, outputs[0], 0, 0);
        Assert.Equal(ScalarType.Bool, outputs[1].dtype);
        Assert.True(outputs[1].all().item<bool>());
    }

    [Fact]
    public void Dropout_in_training_zeroes_the_masked_elements_and_scales_the_rest()
    {
        manual_seed(3);
        var x = rand(100, 100) + 1;
        var outputs = Run("Dropout", new[] { x, tensor(0.25f) }, outputs: 2, opset: 13, training: true);
        Tensor y = outputs[0], keep = outputs[1];
        AssertClose(x * keep.to_type(ScalarType.Float32) / 0.75, y);
        double kept = keep.to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(kept, 0.72, 0.78);
    }

    [Fact]
    public void Dropout_with_training_mode_false_stays_the_identity_while_the_module_trains()
    {
        var x = randn(10, 10);
        var y = Run("Dropout", new[] { x, tensor(0.5f), tensor(false) }, opset: 13, training: true, constants: new[] { 1, 2 })[0];
        AssertClose(x, y, 0, 0);
    }

    [Fact]
    public void Dropout_before_opset_12_reads_the_ratio_attribute()
    {
        manual_seed(4);
        var x = ones(50, 50);
        var y = Run("Dropout", new[] { x }, Attrs(("ratio", 0.5f)), opset: 11, training: true)[0];
        var values = y.unique().Item1.data<float>().ToArray();
        Assert.Equal(new[] { 0f, 2f }, values);
    }
}
