using PruneSharp.Graph;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>The kernel chosen for one input shape of a layer, and what was measured to choose it.</summary>
/// <param name="InputShape">The shape of the layer's activation input.</param>
/// <param name="Kernel">The kernel that runs this shape.</param>
/// <param name="Measurement">Dense and sparse latency when measured; null when the choice was imposed.</param>
/// <param name="Compiled">True if the decision is a <see cref="CompiledPlan"/>'s (its own dense loop, not libtorch's).</param>
public sealed record LayerDecision(long[] InputShape, KernelKind Kernel, KernelMeasurement? Measurement, bool Compiled = false);

/// <summary>
/// One weight-carrying node (Gemm, MatMul with a weight initializer, 2-D Conv with one group) and its weight as a
/// <see cref="SparseMatrix"/>. At each new input shape it runs the dense and the sparse kernel side by side on the
/// actual input and keeps the faster (or always the sparse one, as configured).
/// </summary>
public sealed class SparseLayer
{
    readonly Dictionary<string, LayerDecision> _decisions = new(StringComparer.Ordinal);
    readonly SparseModelOptions _options;
    LayerDecision? _last;

    internal SparseLayer(Node node, long[] weightShape, double sparsity, SparseMatrix matrix, SparseModelOptions options)
    {
        Node = node;
        WeightShape = weightShape;
        Sparsity = sparsity;
        Matrix = matrix;
        _options = options;
    }

    /// <summary>The graph node.</summary>
    public Node Node { get; }

    /// <summary>The weight's shape as stored in the graph.</summary>
    public long[] WeightShape { get; }

    /// <summary>Fraction of the weight that is zero.</summary>
    public double Sparsity { get; }

    /// <summary>The weight as the sparse kernels read it: [outputs, inputs] (for a convolution, inputs = channels × kernel).</summary>
    public SparseMatrix Matrix { get; }

    /// <summary>The kind of this layer's sparse product: <see cref="KernelKind.SparseBitmap"/> for a bitmap matrix, else <see cref="KernelKind.Sparse"/>.</summary>
    public KernelKind SparseKind => Matrix is BitmapMatrix ? KernelKind.SparseBitmap : KernelKind.Sparse;

    /// <summary>The kernel chosen for each input shape seen so far.</summary>
    public IReadOnlyList<LayerDecision> Decisions
    {
        get { lock (_decisions) return _decisions.Values.ToList(); }
    }

    /// <summary>
    /// Builds the layer for <paramref name="node"/> if it carries a float32 weight initializer of a form the sparse
    /// kernels run, with at least <see cref="SparseModelOptions.MinSparsity"/> zeros; null otherwise.
    /// </summary>
    internal static SparseLayer? TryCreate(Node node, Graph.Graph graph, SparseModelOptions options)
    {
        if (node.Inputs.Count < 2 || !graph.Initializers.TryGetValue(node.Inputs[1], out var weight) || weight.dtype != ScalarType.Float32) return null;
        if (graph.Initializers.ContainsKey(node.Inputs[0])) return null;
        Tensor? matrix = null;
        try
        {
            switch (node.OpType)
            {
                case "Gemm":
                    if (weight.dim() != 2 || node.GetInt("transA", 0) != 0) return null;
                    if (node.InputOrNull(2) is { } bias && (!graph.Initializers.TryGetValue(bias, out var c) || c.dim() > 1)) return null;
                    matrix = node.GetInt("transB", 0) != 0 ? weight.alias() : weight.t();
                    break;
                case "MatMul":
                    if (weight.dim() != 2) return null;
                    matrix = weight.t();
                    break;
                case "Conv":
                    if (weight.dim() != 4 || node.GetInt("group", 1) != 1) return null;
                    if (node.InputOrNull(2) is { } convBias && !graph.Initializers.ContainsKey(convBias)) return null;
                    matrix = weight.reshape(weight.shape[0], -1);
                    break;
                default:
                    return null;
            }
            long total = matrix.numel();
            long nonZeros = matrix.count_nonzero().item<long>();
            double sparsity = 1 - (double)nonZeros / total;
            if (sparsity < options.MinSparsity) return null;
            return new SparseLayer(node, weight.shape, sparsity, Pack(matrix, options), options);
        }
        finally
        {
            matrix?.Dispose();
        }
    }

    /// <summary>
    /// The compact N:M format when the weight fits a pattern and it takes no more bytes than CSR would, else bitmap or CSR
    /// as <see cref="UnstructuredFormat"/> measured them (the compiled plan runs the same matrix).
    /// </summary>
    static SparseMatrix Pack(Tensor matrix, SparseModelOptions options)
    {
        using var cpu = matrix.contiguous();
        var dense = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(cpu.bytes);
        int rows = (int)matrix.shape[0], columns = (int)matrix.shape[1];
        if (options.UseNm && NmMatrix.FindPattern(dense, rows, columns) is var (n, m))
        {
            long nonZeros = 0;
            foreach (float value in dense) if (value != 0) nonZeros++;
            if (NmMatrix.BytesFor(rows, columns, n, m) <= CsrMatrix.BytesFor(rows, columns, nonZeros)) return NmMatrix.FromDense(dense, rows, columns, n, m);
        }
        return UnstructuredFormat.FromDense(dense, rows, columns);
    }

    /// <summary>The node's kernel: the sparse product where it applies and was chosen, <paramref name="dense"/> otherwise.</summary>
    internal OpKernel Compile(OpKernel dense)
    {
        Func<Tensor?[], Tensor?> sparse = Node.OpType switch
        {
            "Gemm" => Gemm,
            "MatMul" => MatMul,
            _ => Conv,
        };
        return (inputs, training) =>
        {
            var x = inputs[0];
            if (training || x is null || x.dtype != ScalarType.Float32 || x.device_type != TorchSharp.DeviceType.CPU || x.requires_grad && is_grad_enabled())
                return dense(inputs, training);
            var decision = Decide(x, inputs, training, dense, sparse);
            if (decision.Kernel == KernelKind.Dense) return dense(inputs, training);
            return sparse(inputs) is { } y ? new[] { y } : dense(inputs, training);
        };
    }

    LayerDecision Decide(Tensor x, Tensor?[] inputs, bool training, OpKernel dense, Func<Tensor?[], Tensor?> sparse)
    {
        long[] shape = x.shape;
        // The common case, the same shape as last time, without building a key.
        if (_last is { } last && last.InputShape.AsSpan().SequenceEqual(shape)) return last;
        string key = string.Join("x", shape);
        lock (_decisions)
            if (_decisions.TryGetValue(key, out var known)) return _last = known;
        LayerDecision decision;
        if (_options.Selection == KernelSelection.Sparse)
            decision = new LayerDecision(x.shape, SparseKind, null);
        else
        {
            // A shape the sparse kernel does not take (e.g. a 1-D convolution input) stays dense without measuring.
            using (var probe = NewDisposeScope())
                if (sparse(inputs) is null)
                    return Remember(key, new LayerDecision(x.shape, KernelKind.Dense, null));
            var measurement = KernelChoice.Measure(
                () => { using var scope = NewDisposeScope(); dense(inputs, training); },
                () => { using var scope = NewDisposeScope(); sparse(inputs); },
                _options.MeasureRounds) with { SparseKernel = SparseKind };
            decision = new LayerDecision(x.shape, measurement.Faster, measurement);
        }
        return Remember(key, decision);
    }

    /// <summary>Records a compiled plan's decision for its input shape.</summary>
    internal void Record(LayerDecision decision) => Remember(string.Join("x", decision.InputShape), decision);

    LayerDecision Remember(string key, LayerDecision decision)
    {
        lock (_decisions) _decisions[key] = decision;
        return _last = decision;
    }

    Tensor? Gemm(Tensor?[] inputs)
    {
        var a = inputs[0]!;
        if (a.dim() != 2 || a.shape[1] != Matrix.Columns) return null;
        float alpha = Node.GetFloat("alpha", 1f), beta = Node.GetFloat("beta", 1f);
        var y = SparseKernels.Linear(Matrix, a, _options.Threads);
        if (alpha != 1f) y.mul_(alpha);
        if (inputs.Length > 2 && inputs[2] is { } c) y.add_(c, beta);
        return y;
    }

    Tensor? MatMul(Tensor?[] inputs)
    {
        var a = inputs[0]!;
        if (a.dim() == 0 || a.shape[^1] != Matrix.Columns) return null;
        using var rows = a.reshape(-1, Matrix.Columns);
        using var y = SparseKernels.Linear(Matrix, rows, _options.Threads);
        long[] shape = a.dim() == 1 ? new long[] { Matrix.Rows } : a.shape[..^1].Append(Matrix.Rows).ToArray();
        return y.reshape(shape);
    }

    Tensor? Conv(Tensor?[] inputs)
    {
        var x = inputs[0]!;
        if (x.dim() != 4 || x.shape[1] != WeightShape[1]) return null;
        long[] kernel = WeightShape[2..];
        long[] stride = Ops.Conv.Spatial(Node.GetInts("strides"), 2, 1), dilation = Ops.Conv.Spatial(Node.GetInts("dilations"), 2, 1);
        long[] pads = Padding.Resolve(Node, Node.GetString("auto_pad", "NOTSET"), Node.GetInts("pads"), x.shape[2..], kernel, stride, dilation);
        var (input, symmetric) = Padding.Apply(x, pads);
        long height = (input.shape[2] + 2 * symmetric[0] - dilation[0] * (kernel[0] - 1) - 1) / stride[0] + 1;
        long width = (input.shape[3] + 2 * symmetric[1] - dilation[1] * (kernel[1] - 1) - 1) / stride[1] + 1;
        if (height < 1 || width < 1) return null;
        using var columns = nn.functional.unfold(input, (kernel[0], kernel[1]), (dilation[0], dilation[1]), (symmetric[0], symmetric[1]), (stride[0], stride[1]));
        if (!ReferenceEquals(input, x)) input.Dispose();
        using var y = SparseKernels.MultiplyBatched(Matrix, columns, _options.Threads);
        var output = y.view(x.shape[0], Matrix.Rows, height, width);
        if (inputs.Length > 2 && inputs[2] is { } bias) output.add_(bias.view(1, -1, 1, 1));
        return output;
    }
}
