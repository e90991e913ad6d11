using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class SoftmaxTests
{
    static Tensor Naive(Tensor x, long dim) => x.exp() / x.exp().sum(dim, keepdim: true);

    [Theory]
    [InlineData(1L)]
    [InlineData(-1L)]
    public void Softmax_from_opset_13_normalises_one_axis(long axis)
    {
        manual_seed(1);
        var x = randn(2, 3, 4);
        AssertClose(Naive(x, axis), Run("Softmax", new[] { x }, Attrs(("axis", axis)), opset: 13)[0]);
        AssertClose(Naive(x, axis).log(), Run("LogSoftmax", new[] { x }, Attrs(("axis", axis)), opset: 13)[0]);
    }

    [Fact]
    public void Softmax_defaults_to_the_last_axis_from_opset_13()
    {
        var x = randn(2, 3, 4);
        AssertClose(Naive(x, -1), Run("Softmax", new[] { x }, opset: 13)[0]);
    }

    [Fact]
    public void Softmax_before_opset_13_normalises_the_flattened_trailing_dimensions()
    {
        manual_seed(2);
        var x = randn(2, 3, 4);
        // Default axis 1: each batch row (3x4 values) sums to one as a whole.
        var expected = Naive(x.reshape(2, 12), 1).reshape(2, 3, 4);
        AssertClose(expected, Run("Softmax", new[] { x }, opset: 11)[0]);
        AssertClose(expected.log(), Run("LogSoftmax", new[] { x }, opset: 11)[0]);
        var axis2 = Naive(x.reshape(6, 4), 1).reshape(2, 3, 4);
        AssertClose(axis2, Run("Softmax", new[] { x }, Attrs(("axis", 2L)), opset: 11)[0]);
    }
}

public class HardmaxTests
{
    [Fact]
    public void Hardmax_marks_the_first_maximum_along_the_axis()
    {
        var x = tensor(new float[] { 1, 3, 3, 0, 5, 2, -1, 2 }).reshape(2, 4);
        var expected = tensor(new float[] { 0, 1, 0, 0, 1, 0, 0, 0 }).reshape(2, 4);
        AssertClose(expected, Run("Hardmax", new[] { x }, opset: 13)[0], 0, 0);
    }

    [Fact]
    public void Hardmax_before_opset_13_picks_one_maximum_per_coerced_row()
    {
        manual_seed(3);
        var x = randn(2, 3, 4);
        var y = Run("Hardmax", new[] { x }, opset: 11)[0];
        var flat = y.reshape(2, 12);
        Assert.Equal(new float[] { 1, 1 }, flat.sum(1).data<float>().ToArray());
        Assert.Equal(x.reshape(2, 12).argmax(1).data<long>().ToArray(), flat.argmax(1).data<long>().ToArray());
    }
}
