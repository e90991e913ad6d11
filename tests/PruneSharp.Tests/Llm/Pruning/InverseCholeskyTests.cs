using PruneSharp.Llm.Pruning;
using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Pruning;

public class InverseCholeskyTests
{
    static Tensor RandomSpd(long n, ScalarType dtype, int seed)
    {
        var generator = new Generator((ulong)seed);
        var x = randn(n + 8, n, dtype: ScalarType.Float64, generator: generator);
        return x.t().matmul(x).add_(eye(n, dtype: ScalarType.Float64).mul_(0.1)).to(dtype);
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(7, 64)]
    [InlineData(64, 64)]
    [InlineData(300, 64)] // four full blocks and a partial one
    [InlineData(301, 256)]
    public void Equals_the_upper_Cholesky_factor_of_the_inverse(long n, int block)
    {
        using var scope = NewDisposeScope();
        var h = RandomSpd(n, ScalarType.Float64, seed: (int)n);
        var expected = linalg.cholesky(linalg.inv(h)).t();
        var u = h.clone();
        InverseCholesky.UpperFactorOfInverseInPlace(u, block);
        Assert.Equal(0, u.tril(-1).abs().max().item<double>());
        double scale = expected.abs().max().item<double>();
        Assert.True(u.sub(expected).abs().max().item<double>() <= 1e-9 * scale, $"max difference {u.sub(expected).abs().max().item<double>()}");
        // UᵀU H = I
        var identity = u.t().matmul(u).matmul(h);
        Assert.True(identity.sub(eye(n, dtype: ScalarType.Float64)).abs().max().item<double>() < 1e-8);
    }

    [Fact]
    public void Float32_agrees_with_the_float64_factor()
    {
        using var scope = NewDisposeScope();
        var h64 = RandomSpd(520, ScalarType.Float64, seed: 3);
        var expected = linalg.cholesky(linalg.inv(h64)).t();
        var u = h64.to(ScalarType.Float32);
        InverseCholesky.UpperFactorOfInverseInPlace(u);
        double relative = u.to(ScalarType.Float64).sub(expected).norm().item<double>() / expected.norm().item<double>();
        Assert.True(relative < 1e-4, $"relative difference {relative}");
    }

    [Fact]
    public void An_indefinite_matrix_is_refused()
    {
        using var scope = NewDisposeScope();
        var h = RandomSpd(100, ScalarType.Float64, seed: 5);
        h[40, 40] = tensor(-1e6);
        var error = Assert.Throws<PruningException>(() => InverseCholesky.UpperFactorOfInverseInPlace(h, 32));
        Assert.Contains("not positive definite", error.Message);
    }
}
