using static PruneSharp.Tests.Ops.OneNode;
using static PruneSharp.Tests.Ops.OnnxRuntimeOracle;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

/// <summary>The opset 18..21 forms of the shape and reduction ops (absent from the packaged ONNX 1.12 node tests), checked against ONNX Runtime.</summary>
public class OnnxRuntimeAgreementTests
{
    public static IEnumerable<object[]> Reductions()
    {
        string[] ops = { "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp", "ReduceSum" };
        foreach (string op in ops)
            foreach (int opset in new[] { 18, 21 })
                yield return new object[] { op, opset };
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Reductions_with_axes_as_input_agree(string op, int opset)
    {
        manual_seed(7);
        var x = rand(2, 3, 4) + 0.5f;
        foreach (long keep in new[] { 0L, 1L })
        {
            Agrees(op, Attrs(("keepdims", keep)), opset, 1, x, Longs(0, -1));
            Agrees(op, Attrs(("keepdims", keep)), opset, 1, x, Longs(1));
            Agrees(op, Attrs(("keepdims", keep)), opset, 1, x);
            Agrees(op, Attrs(("keepdims", keep), ("noop_with_empty_axes", 1L)), opset, 1, x, Longs());
            Agrees(op, Attrs(("keepdims", keep), ("noop_with_empty_axes", 1L)), opset, 1, x);
        }
        Agrees(op, Attrs(("keepdims", 0L)), opset, 1, tensor(new long[,] { { 3, -2, 5 }, { 4, 4, 1 } }), Longs(1));
    }

    [Fact]
    public void Split_with_num_outputs_agrees()
    {
        var x = randn(2, 7);
        Agrees("Split", Attrs(("axis", 1L), ("num_outputs", 3L)), 18, 3, x);
        Agrees("Split", Attrs(("axis", -1L), ("num_outputs", 2L)), 21, 2, x);
        Agrees("Split", Attrs(("axis", 1L)), 18, 2, x, Longs(2, 5));
    }

    [Fact]
    public void Shape_squeeze_unsqueeze_and_friends_agree_at_opset_21()
    {
        var x = randn(1, 3, 1, 4);
        Agrees("Shape", Attrs(("start", 1L), ("end", -1L)), 21, 1, x);
        Agrees("Squeeze", null, 21, 1, x, Longs(-2));
        Agrees("Unsqueeze", null, 21, 1, x, Longs(-1, 0));
        Agrees("Transpose", null, 21, 1, x);
        Agrees("Cast", Attrs(("to", 3L)), 21, 1, tensor(new[] { -3.7f, 0.2f, 100.9f }));
        Agrees("ConstantOfShape", Attrs(("value", tensor(new[] { 2L }))), 21, 1, Longs(2, 3));
        Agrees("Size", null, 21, 1, x);
    }

    [Fact]
    public void Slice_agrees_on_random_bounds_and_steps()
    {
        var random = new Random(9);
        long[] special = { long.MinValue, long.MaxValue };
        var x = arange(42, ScalarType.Float32).reshape(6, 7);
        for (int trial = 0; trial < 30; trial++)
        {
            long Bound() => random.Next(6) == 0 ? special[random.Next(2)] : random.Next(-9, 10);
            long step = random.Next(1, 4) * (random.Next(2) == 0 ? 1 : -1);
            long[] starts = { Bound(), Bound() }, ends = { Bound(), Bound() };
            // ONNX Runtime reads end = INT64_MAX with a negative step as "to the beginning" (onnxruntime issue 11107);
            // the spec clamps it to n-1, giving an empty slice, as the naive test in SliceGatherTests checks.
            for (int i = 0; i < 2; i++)
                if (ends[i] == long.MaxValue && (i == 0 ? step : -step) < 0) ends[i] = long.MinValue;
            var error = Record.Exception(() => Agrees("Slice", null, 13, 1, x, Longs(starts), Longs(ends), Longs(1, 0), Longs(step, -step)));
            Assert.True(error == null, $"starts [{string.Join(",", starts)}] ends [{string.Join(",", ends)}] axes [1,0] steps [{step},{-step}]: {error?.Message}");
        }
    }

    [Fact]
    public void Indexing_ops_agree()
    {
        var x = randn(3, 4, 5);
        Agrees("Gather", Attrs(("axis", -1L)), 13, 1, x, tensor(new long[,] { { -1, 0 }, { 2, 4 } }));
        Agrees("GatherElements", Attrs(("axis", 1L)), 13, 1, x, randint(-4, 4, new long[] { 3, 2, 5 }));
        Agrees("GatherND", Attrs(("batch_dims", 1L)), 13, 1, x, tensor(new long[,,] { { { 1, 2 } }, { { -1, 0 } }, { { 0, 4 } } }));
        Agrees("ScatterElements", Attrs(("axis", 0L), ("reduction", "max")), 18, 1, x, tensor(new long[,,] { { { 0, 2, 2, 1, 0 } }, { { 2, 2, 0, 1, 1 } } }), randn(2, 1, 5));
        Agrees("ScatterND", Attrs(("reduction", "mul")), 18, 1, x, tensor(new long[,] { { 1, 2 }, { 1, 2 }, { 0, 3 } }), randn(3, 5));
        Agrees("TopK", Attrs(("axis", 0L), ("largest", 0L)), 11, 2, tensor(new float[,] { { 2, 1, 1, 3, 1 } }).t().contiguous(), Longs(3));
        Agrees("ArgMax", Attrs(("axis", 1L), ("select_last_index", 1L), ("keepdims", 0L)), 13, 1, tensor(new float[,] { { 1, 4, 4, 2 }, { 0, 0, 0, 0 } }));
        Agrees("OneHot", Attrs(("axis", 1L)), 11, 1, tensor(new long[] { -1, 0, 3, 9 }), tensor(4L), tensor(new[] { 0.5f, 2f }));
        Agrees("CumSum", Attrs(("exclusive", 1L), ("reverse", 1L)), 14, 1, x, tensor(1L));
        Agrees("Trilu", Attrs(("upper", 0L)), 14, 1, x, tensor(-1L));
        Agrees("Range", null, 11, 1, tensor(2.5f), tensor(-1f), tensor(-0.7f));
        Agrees("Expand", null, 13, 1, randn(3, 1), Longs(2, 1, 6));
        Agrees("Tile", null, 13, 1, x, Longs(1, 2, 3));
        Agrees("Clip", null, 13, 1, tensor(new[] { -5, 0, 7 }), tensor(-1), tensor(3));
        Agrees("Where", null, 16, 1, tensor(new[] { true, false }), randn(3, 2), tensor(0f));
        Agrees("DepthToSpace", Attrs(("blocksize", 2L), ("mode", "CRD")), 13, 1, randn(1, 8, 2, 3));
        Agrees("SpaceToDepth", Attrs(("blocksize", 2L)), 13, 1, randn(1, 2, 4, 6));
        Agrees("NonZero", null, 13, 1, tensor(new long[,] { { 0, 3 }, { 5, 0 } }));
        Agrees("Compress", Attrs(("axis", 0L)), 11, 1, x, tensor(new[] { true, false, true }));
        Agrees("EyeLike", Attrs(("k", 2L)), 13, 1, zeros(3, 5));
    }
}
