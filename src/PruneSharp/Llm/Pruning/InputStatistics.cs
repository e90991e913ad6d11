using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// What the retraining-free methods need to know of one linear layer's inputs, accumulated batch by batch so the
/// calibration activations are never held: the token count n, the per-feature sums Σ_t x_tj (the mean E[x_j], for
/// DSnoT), the squared column norms ‖X_j‖₂² = Σ_t x_tj² (Wanda), and optionally the Hessian of the layer-wise
/// reconstruction loss H = 2·XᵀX/n (SparseGPT, <see cref="ReconstructionError"/>). XᵀX is accumulated as a plain sum
/// (one matrix product per batch, Σ_b X_bᵀX_b, which is XᵀX over all tokens up to the order of additions) and scaled
/// by 2/n when read; the papers' running average H ← H·n/(n+b) + 2X_bᵀX_b/(n+b) is the same up to rounding and costs
/// an extra pass over H per batch. Accumulation is in float32 by default (as the papers' code does) or in float64
/// when asked; the methods return float32. One object can serve several linears
/// that read the same input (an attention block's q, k and v projections). The owner disposes it.
/// </summary>
public sealed class InputStatistics : IDisposable
{
    readonly Tensor _sums;
    readonly Tensor _squares;
    readonly Tensor? _hessian;

    /// <summary>Empty statistics for inputs of <paramref name="features"/> features.</summary>
    /// <param name="features">The linear layer's input width (the last dimension of its input).</param>
    /// <param name="hessian">Whether to accumulate H (features² floats; only SparseGPT, DSnoT and the reconstruction error need it).</param>
    /// <param name="accumulation">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException">No features, or an accumulation type other than Float32/Float64.</exception>
    public InputStatistics(long features, bool hessian = true, ScalarType accumulation = ScalarType.Float32)
    {
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), features, "a linear layer has at least one input feature");
        if (accumulation is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentOutOfRangeException(nameof(accumulation), accumulation, "statistics accumulate in Float32 or Float64");
        Features = features;
        Accumulation = accumulation;
        // Owned state: never disposed by a dispose scope that happens to be open when the statistics are created
        // (the layer-by-layer driver creates them inside a decoder layer's forward pass).
        _sums = zeros(features, dtype: accumulation).DetachFromDisposeScope();
        _squares = zeros(features, dtype: accumulation).DetachFromDisposeScope();
        _hessian = hessian ? zeros(features, features, dtype: accumulation).DetachFromDisposeScope() : null;
    }

    /// <summary>The input width.</summary>
    public long Features { get; }

    /// <summary>The floating-point type sums are kept in.</summary>
    public ScalarType Accumulation { get; }

    /// <summary>Tokens seen so far (rows of X).</summary>
    public long Tokens { get; private set; }

    /// <summary>Whether H is accumulated.</summary>
    public bool HasHessian => _hessian is not null;

    /// <summary>
    /// Adds a batch of inputs <paramref name="x"/> [..., features]: every leading index is one token (a batch of
    /// windows [batch, sequence, features] is flattened). The tensor is read, not kept.
    /// </summary>
    /// <exception cref="PruningException">The last dimension is not <see cref="Features"/>, or a value is NaN or infinite.</exception>
    public void Add(Tensor x)
    {
        if (x.dim() < 1 || x.shape[^1] != Features)
            throw new PruningException($"calibration input of shape [{string.Join(",", x.shape)}] does not match a linear layer of {Features} input features (last dimension)");
        using var scope = NewDisposeScope();
        var rows = x.detach().reshape(-1, Features).to(Accumulation);
        long batch = rows.shape[0];
        if (batch == 0) return;
        var squares = rows.square().sum(dim: 0);
        // NaN and ∞ reach the sums of squares, so one check of [features] values covers the batch.
        if (!squares.isfinite().all().item<bool>())
            throw new PruningException($"calibration input of shape [{string.Join(",", x.shape)}] contains NaN or infinite values (or values whose squares overflow)");
        _sums.add_(rows.sum(dim: 0));
        _squares.add_(squares);
        _hessian?.addmm_(rows.t(), rows, beta: 1, alpha: 1);
        Tokens += batch;
    }

    /// <summary>‖X_j‖₂² = Σ_t x_tj² over every token seen, float32 [features] (a new tensor).</summary>
    public Tensor ColumnNormsSquared() => _squares.to(ScalarType.Float32, copy: true);

    /// <summary>E[x_j], the mean of each feature over the tokens seen, float32 [features] (a new tensor).</summary>
    /// <exception cref="PruningException">No tokens were added.</exception>
    public Tensor Mean()
    {
        double n = RequireTokens();
        using var scope = NewDisposeScope();
        return _sums.div(n).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Var(x_j) = E[x_j²] − E[x_j]², the population variance of each feature, float32 [features] (a new tensor).</summary>
    /// <exception cref="PruningException">No tokens were added.</exception>
    public Tensor Variance()
    {
        double n = RequireTokens();
        using var scope = NewDisposeScope();
        var mean = _sums.div(n);
        return _squares.div(n).sub_(mean.square()).clamp_min_(0).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>H = 2·XᵀX/n over the tokens seen, float32 [features, features] (a new tensor).</summary>
    /// <exception cref="PruningException">H is not accumulated, or no tokens were added.</exception>
    public Tensor Hessian() => Hessian(ScalarType.Float32);

    /// <summary>H = 2·XᵀX/n as a new tensor of <paramref name="dtype"/>, held by no other reference.</summary>
    internal Tensor Hessian(ScalarType dtype)
    {
        var gram = Gram;
        double n = RequireTokens();
        using var scope = NewDisposeScope();
        return gram.mul(2 / n).to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// XᵀX as accumulated (not a copy; in the accumulation type): H up to its factor 2/n, for computations where that
    /// factor cancels (<see cref="ReconstructionError.Relative"/>) and a [features, features] copy would only cost memory.
    /// </summary>
    /// <exception cref="PruningException">H is not accumulated.</exception>
    internal Tensor Gram => _hessian ?? throw new PruningException("these input statistics were created without the Hessian (hessian: false)");

    long RequireTokens() =>
        Tokens > 0 ? Tokens : throw new PruningException("no calibration inputs were added to the input statistics");

    /// <inheritdoc />
    public void Dispose()
    {
        _sums.Dispose();
        _squares.Dispose();
        _hessian?.Dispose();
    }
}
