using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PruneSharp.Sparse;

/// <summary>An element-wise activation that a kernel applies to its results before storing them.</summary>
public enum ActivationKind
{
    /// <summary>None: the value as computed.</summary>
    None,
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>x for x ≥ 0, α·x otherwise.</summary>
    LeakyRelu,
    /// <summary>min(max(x, low), high).</summary>
    Clip,
    /// <summary>1 / (1 + e^−x).</summary>
    Sigmoid,
    /// <summary>tanh(x).</summary>
    Tanh,
}

/// <summary>One activation with its parameters (α of LeakyRelu; low and high of Clip).</summary>
internal readonly struct Activation(ActivationKind kind, float a = 0, float b = 0)
{
    public ActivationKind Kind { get; } = kind;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Apply(float x) => Kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => x > 0 ? x : 0,
        ActivationKind.LeakyRelu => x >= 0 ? x : a * x,
        ActivationKind.Clip => Math.Min(Math.Max(x, a), b),
        ActivationKind.Sigmoid => 1 / (1 + MathF.Exp(-x)),
        _ => MathF.Tanh(x),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Apply(Vector256<float> x) => Kind switch
    {
        ActivationKind.None => x,
        ActivationKind.Relu => Vector256.Max(x, Vector256<float>.Zero),
        ActivationKind.LeakyRelu => Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), x, x * a),
        ActivationKind.Clip => Vector256.Min(Vector256.Max(x, Vector256.Create(a)), Vector256.Create(b)),
        _ => Lanes(x),
    };

    /// <summary>Sixteen lanes as two runs of eight (only at a store, not in a product's inner loop).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Apply(Vector512<float> x) => Kind == ActivationKind.None ? x : Vector512.Create(Apply(x.GetLower()), Apply(x.GetUpper()));

    /// <summary>The transcendental activations lane by lane.</summary>
    Vector256<float> Lanes(Vector256<float> x)
    {
        Span<float> lanes = stackalloc float[8];
        x.CopyTo(lanes);
        for (int i = 0; i < 8; i++) lanes[i] = Apply(lanes[i]);
        return Vector256.Create<float>(lanes);
    }
}

/// <summary>
/// What a kernel does to each output row before storing it: y = act(scale[row] · acc + shift[row]), with the scale and
/// the shift optional. A bias is a shift; a BatchNormalization after the layer is a scale and a shift; the default is
/// the identity.
/// </summary>
internal readonly unsafe struct Epilogue(float* scale, float* shift, Activation activation)
{
    readonly float* _scale = scale, _shift = shift;
    readonly Activation _activation = activation;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Apply(int row, float x)
    {
        if (_scale != null) x *= _scale[row];
        if (_shift != null) x += _shift[row];
        return _activation.Apply(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Apply(int row, Vector256<float> x)
    {
        if (_scale != null) x *= _scale[row];
        if (_shift != null) x += Vector256.Create(_shift[row]);
        return _activation.Apply(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Apply(int row, Vector512<float> x)
    {
        if (_scale != null) x *= _scale[row];
        if (_shift != null) x += Vector512.Create(_shift[row]);
        return _activation.Apply(x);
    }
}
