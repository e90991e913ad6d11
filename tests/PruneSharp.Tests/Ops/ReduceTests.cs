using static PruneSharp.Tests.Ops.OneNode;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class ReduceTests
{
    /// <summary>Reduces by visiting every element and folding it into its output cell (double precision).</summary>
    static double[] Naive(string op, float[] data, long[] shape, long[] axes)
    {
        var cells = new Dictionary<string, List<double>>();
        var order = new List<string>();
        var index = new long[shape.Length];
        for (int flat = 0; flat < data.Length; flat++)
        {
            long rest = flat;
            for (int d = shape.Length - 1; d >= 0; d--) { index[d] = rest % shape[d]; rest /= shape[d]; }
            string key = string.Join(",", index.Select((v, d) => axes.Contains(d) ? 0 : v));
            if (!cells.TryGetValue(key, out var list)) { cells[key] = list = new(); order.Add(key); }
            list.Add(data[flat]);
        }
        return order.Select(k => cells[k]).Select(v => op switch
        {
            "ReduceSum" => v.Sum(),
            "ReduceMean" => v.Average(),
            "ReduceMax" => v.Max(),
            "ReduceMin" => v.Min(),
            "ReduceProd" => v.Aggregate(1.0, (p, e) => p * e),
            "ReduceL1" => v.Sum(Math.Abs),
            "ReduceL2" => Math.Sqrt(v.Sum(e => e * e)),
            "ReduceSumSquare" => v.Sum(e => e * e),
            "ReduceLogSum" => Math.Log(v.Sum()),
            _ => Math.Log(v.Sum(Math.Exp)),
        }).ToArray();
    }

    public static IEnumerable<object[]> Cases()
    {
        string[] ops = { "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp" };
        long[][] axes = { new long[] { 1 }, new long[] { 0, 2 }, new long[] { -1 }, new long[0] };
        foreach (string op in ops)
            foreach (long[] a in axes)
                foreach (int opset in new[] { 13, 18 })
                    yield return new object[] { op, a, opset };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reductions_match_a_naive_fold_with_and_without_keepdims(string op, long[] axes, int opset)
    {
        manual_seed(3);
        long[] shape = { 2, 3, 4 };
        var x = rand(shape) + 0.5f;
        bool axesAsInput = opset >= 18 || op == "ReduceSum";
        long[] all = { 0, 1, 2 };
        long[] reduced = (axes.Length == 0 ? all : axes.Select(a => a < 0 ? a + 3 : a)).ToArray();
        var expected = Naive(op, x.data<float>().ToArray(), shape, reduced);
        foreach (long keep in new[] { 0L, 1L })
        {
            var attributes = Attrs(("keepdims", keep));
            if (!axesAsInput && axes.Length > 0) attributes["axes"] = PruneSharp.Graph.AttributeValue.FromInts(axes);
            var y = axesAsInput && axes.Length > 0 ? RunAt(opset, op, attributes, x, Longs(axes)) : RunAt(opset, op, attributes, x);
            long[] expectedShape = keep == 1 ? shape.Select((n, d) => reduced.Contains(d) ? 1 : n).ToArray() : shape.Where((_, d) => !reduced.Contains(d)).ToArray();
            Assert.Equal(expectedShape, y.shape);
            Assert.Equal(ScalarType.Float32, y.dtype);
            var actual = y.flatten().data<float>().ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i]), $"{op} cell {i}: {expected[i]} vs {actual[i]}");
        }
    }

    [Fact]
    public void Empty_axes_with_noop_leave_the_input_and_integer_means_truncate()
    {
        var x = randn(2, 3);
        Same(x, RunAt(13, "ReduceSum", Attrs(("noop_with_empty_axes", 1L)), x, Longs()));
        Same(x.sum(), RunAt(13, "ReduceSum", Attrs(("keepdims", 0L)), x, Longs()));
        Same(x.square(), RunAt(18, "ReduceSumSquare", Attrs(("noop_with_empty_axes", 1L)), x));
        Same(tensor(new[] { 2, -1 }), Run("ReduceMean", Attrs(("axes", new long[] { 1 }), ("keepdims", 0L)), tensor(new[,] { { 1, 2, 4 }, { -1, -2, 0 } })));
        Same(tensor(new[] { 7L, 0L }), Run("ReduceSum", Attrs(("keepdims", 0L)), tensor(new[,] { { 1L, 2L, 4L }, { -1L, 1L, 0L } }), Longs(1)));
    }

    [Fact]
    public void Reducing_an_empty_axis_gives_the_identity_of_the_reduction()
    {
        var x = zeros(2, 0);
        Same(zeros(2), Run("ReduceSum", Attrs(("keepdims", 0L)), x, Longs(1)));
        Same(ones(2), RunAt(18, "ReduceProd", Attrs(("keepdims", 0L)), x, Longs(1)));
        Same(full(new long[] { 2 }, float.NegativeInfinity), RunAt(18, "ReduceMax", Attrs(("keepdims", 0L)), x, Longs(1)));
        Same(full(new long[] { 2, 1 }, int.MaxValue, ScalarType.Int32), RunAt(18, "ReduceMin", null, zeros(2, 0, ScalarType.Int32), Longs(1)));
    }

    [Theory]
    [InlineData("ArgMax", 0L)]
    [InlineData("ArgMax", 1L)]
    [InlineData("ArgMin", 0L)]
    [InlineData("ArgMin", 1L)]
    public void ArgMax_and_ArgMin_pick_the_first_or_last_extreme(string op, long last)
    {
        var x = tensor(new float[,] { { 1, 5, 5, 0 }, { 2, 2, -1, -1 } });
        var y = Run(op, Attrs(("axis", -1L), ("select_last_index", last)), x);
        Assert.Equal(ScalarType.Int64, y.dtype);
        Assert.Equal(new long[] { 2, 1 }, y.shape);
        long[] expected = (op, last) switch
        {
            ("ArgMax", 0) => new long[] { 1, 0 },
            ("ArgMax", _) => new long[] { 2, 1 },
            ("ArgMin", 0) => new long[] { 3, 2 },
            _ => new long[] { 3, 3 },
        };
        Assert.Equal(expected, y.flatten().data<long>().ToArray());
        Assert.Equal(new long[] { 4 }, Run(op, Attrs(("keepdims", 0L)), x).shape);
    }

    [Fact]
    public void TopK_returns_values_and_indices_with_ties_in_index_order()
    {
        var x = tensor(new float[,] { { 3, 1, 3, 2, 5 }, { 0, 0, 0, 1, -1 } });
        var outputs = RunAll("TopK", null, 17, 2, x, Longs(3));
        Same(tensor(new float[,] { { 5, 3, 3 }, { 1, 0, 0 } }), outputs[0]);
        Same(tensor(new long[,] { { 4, 0, 2 }, { 3, 0, 1 } }), outputs[1]);
        outputs = RunAll("TopK", Attrs(("largest", 0L), ("axis", 0L)), 17, 2, x, Longs(1));
        Same(tensor(new long[,] { { 1, 1, 1, 1, 1 } }), outputs[1]);
        Assert.Contains("k = 6", Assert.ThrowsAny<Exception>(() => RunAll("TopK", null, 17, 2, x, Longs(6))).Message);
    }
}
