using PruneSharp.Engine;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Engine;

public class MemoryGuardTests
{
    [Fact]
    public void Bytes_are_the_product_of_the_shape_and_element_size_without_overflow()
    {
        Assert.Equal(2.0 * 3 * 4 * 4, MemoryGuard.Bytes(new long[] { 2, 3, 4 }, ScalarType.Float32));
        Assert.Equal(8.0, MemoryGuard.Bytes(Array.Empty<long>(), ScalarType.Int64));
        Assert.Equal(0.0, MemoryGuard.Bytes(new long[] { 0, 1_000_000_000_000 }, ScalarType.Float32));
        double huge = MemoryGuard.Bytes(new long[] { long.MaxValue, long.MaxValue, long.MaxValue }, ScalarType.Float64);
        Assert.True(huge > long.MaxValue); // a long product would have wrapped
    }

    [Fact]
    public void A_shape_beyond_available_memory_is_refused_naming_the_input_and_shape()
    {
        MemoryGuard.Check(new[] { ("x", (IReadOnlyList<long>)new long[] { 1, 3, 224, 224 }, ScalarType.Float32) });
        var error = Assert.Throws<TensorTooLargeException>(() => MemoryGuard.Check(new[]
        {
            ("small", (IReadOnlyList<long>)new long[] { 4 }, ScalarType.Float32),
            ("input", (IReadOnlyList<long>)new long[] { 1_000_000_000, 1, 28, 28 }, ScalarType.Float32),
        }));
        Assert.StartsWith("input 'input' of shape 1000000000x1x28x28 (Float32) needs 2921 GiB", error.Message);
        Assert.True(MemoryGuard.AvailableBytes() > 0);
    }
}
