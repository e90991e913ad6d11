using static PruneSharp.Tests.Ops.OpRunner;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Ops;

public class WindowTests
{
    [Theory]
    [InlineData("HannWindow", true)]
    [InlineData("HammingWindow", false)]
    [InlineData("BlackmanWindow", true)]
    public void Windows_follow_their_cosine_sums(string op, bool periodic)
    {
        const int size = 9;
        double period = periodic ? size : size - 1;
        var expected = Enumerable.Range(0, size).Select(k =>
        {
            double phase = 2 * Math.PI * k / period;
            return op switch
            {
                "HannWindow" => 0.5 - 0.5 * Math.Cos(phase),
                "HammingWindow" => 25.0 / 46 - 21.0 / 46 * Math.Cos(phase),
                _ => 0.42 - 0.5 * Math.Cos(phase) + 0.08 * Math.Cos(2 * phase),
            };
        }).ToArray();
        var y = Run(op, new[] { tensor(size) }, Attrs(("periodic", periodic ? 1L : 0L), ("output_datatype", 11L)), opset: 17)[0];
        Assert.Equal(ScalarType.Float64, y.dtype);
        AssertClose(tensor(expected), y, 1e-12, 1e-12);
    }
}
