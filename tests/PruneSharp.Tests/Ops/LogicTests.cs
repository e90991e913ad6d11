using static PruneSharp.Tests.Ops.OneNode;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class LogicTests
{
    [Theory]
    [InlineData("Equal")]
    [InlineData("Less")]
    [InlineData("LessOrEqual")]
    [InlineData("Greater")]
    [InlineData("GreaterOrEqual")]
    public void Comparisons_broadcast_and_give_bools(string op)
    {
        var a = tensor(new long[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var b = tensor(new long[] { 3, 2, 7 });
        var y = Run(op, a, b);
        Assert.Equal(ScalarType.Bool, y.dtype);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
            {
                long l = a[i, j].item<long>(), r = b[j].item<long>();
                bool expected = op switch { "Equal" => l == r, "Less" => l < r, "LessOrEqual" => l <= r, "Greater" => l > r, _ => l >= r };
                Assert.Equal(expected, y[i, j].item<bool>());
            }
    }

    [Fact]
    public void Boolean_ops_follow_their_truth_tables()
    {
        var a = tensor(new[] { false, false, true, true });
        var b = tensor(new[] { false, true, false, true });
        Same(tensor(new[] { true, true, false, false }), Run("Not", a));
        Same(tensor(new[] { false, false, false, true }), Run("And", a, b));
        Same(tensor(new[] { false, true, true, true }), Run("Or", a, b));
        Same(tensor(new[] { false, true, true, false }), Run("Xor", a, b));
    }

    [Fact]
    public void Where_broadcasts_condition_and_both_branches()
    {
        var condition = tensor(new[] { true, false, true });
        var x = randn(2, 3);
        var y = Run("Where", condition, x, tensor(-1f));
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(j == 1 ? -1f : x[i, j].item<float>(), y[i, j].item<float>());
    }

    [Theory]
    [InlineData("Min")]
    [InlineData("Max")]
    public void Min_and_Max_take_any_number_of_broadcast_inputs(string op)
    {
        var a = randn(2, 3);
        var b = randn(3);
        var c = tensor(0.1f);
        var y = Run(op, a, b, c);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
            {
                float[] v = { a[i, j].item<float>(), b[j].item<float>(), 0.1f };
                Assert.Equal(op == "Min" ? v.Min() : v.Max(), y[i, j].item<float>());
            }
        Same(a, Run(op, a));
        Assert.True(Run(op, tensor(new[] { float.NaN, 1f }), tensor(new[] { 0f, 2f }))[0].isnan().item<bool>());
    }

    [Fact]
    public void Clip_bounds_come_from_inputs_from_opset_11_and_from_attributes_before()
    {
        var x = tensor(new[] { -3f, -0.5f, 0.5f, 3f });
        Same(tensor(new[] { -1f, -0.5f, 0.5f, 1f }), Run("Clip", x, tensor(-1f), tensor(1f)));
        Same(tensor(new[] { 0f, 0f, 0.5f, 3f }), Run("Clip", x, tensor(0f)));
        Same(tensor(new[] { -3f, -0.5f, 0.5f, 2f }), Run("Clip", x, null, tensor(2f)));
        Same(x, Run("Clip", x));
        Same(tensor(new[] { -1f, -1f, -1f, -1f }), Run("Clip", x, tensor(2f), tensor(-1f)));
        Same(tensor(new[] { -2f, -0.5f, 0.5f, 1f }), RunAt(6, "Clip", Attrs(("min", -2f), ("max", 1f)), x));
        Same(tensor(new[] { -2, 0, 2 }), Run("Clip", tensor(new[] { -5, 0, 5 }), tensor(-2), tensor(2)));
    }

    [Fact]
    public void IsNaN_and_IsInf_classify_values()
    {
        var x = tensor(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1f });
        Same(tensor(new[] { true, false, false, false }), Run("IsNaN", x));
        Same(tensor(new[] { false, true, true, false }), Run("IsInf", x));
        Same(tensor(new[] { false, true, false, false }), Run("IsInf", Attrs(("detect_negative", 0L)), x));
        Same(tensor(new[] { false, false, true, false }), Run("IsInf", Attrs(("detect_positive", 0L)), x));
    }
}
