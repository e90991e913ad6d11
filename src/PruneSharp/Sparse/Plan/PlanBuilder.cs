using System.Runtime.InteropServices;
using PruneSharp.Graph;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>A node the compiled plan cannot run at the given input shapes; the message names the node and why.</summary>
internal sealed class PlanRefusedException(string message) : Exception(message);

/// <summary>
/// Compiles a graph for one set of input shapes into <see cref="PlanStep"/>s over preallocated <see cref="PlanBuffer"/>s.
/// Nodes whose inputs are all constant (and Shape/Size of an activation, whose shape is now known) are evaluated once
/// here with the ordinary op kernels; Gemm, MatMul and Conv take the Add of a bias, a BatchNormalization and an
/// activation that follow them (when they are those values' only readers) into their kernel's epilogue.
/// </summary>
internal sealed unsafe class PlanBuilder
{
    readonly Graph.Graph _graph;
    readonly SparseModelOptions _options;
    readonly IReadOnlyDictionary<Node, SparseLayer> _layers;
    readonly Dictionary<string, Tensor> _constants = new(StringComparer.Ordinal);
    readonly Dictionary<string, PlanBuffer> _values = new(StringComparer.Ordinal);
    readonly Dictionary<string, List<Node>> _consumers = new(StringComparer.Ordinal);
    readonly HashSet<string> _graphOutputs;
    readonly HashSet<Node> _fused = new(ReferenceEqualityComparer.Instance);
    readonly List<PlanStep> _steps = new();
    readonly List<object> _keep = new(); // arrays the steps' pointers refer to (pinned, so they only need to stay alive)

    PlanBuilder(Graph.Graph graph, SparseModelOptions options, IReadOnlyDictionary<Node, SparseLayer> layers)
    {
        _graph = graph;
        _options = options;
        _layers = layers;
        _graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (string input in node.Inputs.Where(i => i.Length > 0))
                (_consumers.TryGetValue(input, out var list) ? list : _consumers[input] = new List<Node>()).Add(node);
    }

    /// <summary>The steps for inputs of <paramref name="shapes"/> (one per graph input), with the input and output buffers.</summary>
    /// <exception cref="PlanRefusedException">A node cannot be planned at these shapes.</exception>
    public static (PlanBuffer[] Inputs, List<PlanStep> Steps, PlanBuffer[] Outputs, List<object> Keep) Build(
        Graph.Graph graph, SparseModelOptions options, IReadOnlyDictionary<Node, SparseLayer> layers, IReadOnlyList<long[]> shapes)
    {
        var b = new PlanBuilder(graph, options, layers);
        using var scope = NewDisposeScope();
        foreach (var (name, value) in graph.Initializers) b._constants[name] = value;
        var inputs = graph.Inputs.Select((info, k) => b._values[info.Name] = PlanBuffer.Allocate(shapes[k])).ToArray();
        foreach (var node in graph.TopologicalOrder())
            if (!b._fused.Contains(node)) b.Add(node);
        var outputs = graph.Outputs.Select(o => b._values.TryGetValue(o.Name, out var v) ? v
            : throw new PlanRefusedException($"graph output '{o.Name}' is a constant, not computed from the inputs")).ToArray();
        return (inputs, b._steps, outputs, b._keep);
    }

    void Add(Node node)
    {
        if (node.Domain is not ("" or "ai.onnx")) Refuse(node, $"domain '{node.Domain}' is not the default one");
        bool allConstant = node.Inputs.All(i => i.Length == 0 || _constants.ContainsKey(i));
        if (allConstant || node.OpType is "Shape" or "Size")
        {
            Fold(node);
            return;
        }
        switch (node.OpType)
        {
            case "Gemm" or "MatMul": Linear(node); break;
            case "Conv": Conv(node); break;
            case "MaxPool" or "AveragePool": Pool(node); break;
            case "GlobalAveragePool" or "GlobalMaxPool": GlobalPool(node); break;
            case "Flatten" or "Reshape" or "Squeeze" or "Unsqueeze" or "Identity" or "Dropout": View(node); break;
            case "Add" or "Sub" or "Mul" or "Div": Binary(node); break;
            case "BatchNormalization": BatchNorm(node); break;
            case "Softmax" or "LogSoftmax": Softmax(node); break;
            default:
                if (ActivationOf(node) is { } activation) Activate(node, activation);
                else Refuse(node, $"op {node.OpType} is not one the compiled plan runs ({string.Join(", ", CompiledPlan.SupportedOps)})");
                break;
        }
    }

    static void Refuse(Node node, string why) => throw new PlanRefusedException($"node '{node.Name}' ({node.OpType}): {why}");

    OpKernel Kernel(Node node) => OpRegistry.Default.Find(node, _graph.Opset)
        .Compile(node, new CompileContext(_graph.Opset, n => _constants.GetValueOrDefault(n), n => null));

    /// <summary>Evaluates a node on constants (an activation's input replaced by an empty tensor of its shape) once.</summary>
    Tensor[] Evaluate(Node node)
    {
        var inputs = node.Inputs.Select(i => i.Length == 0 ? null
            : _constants.TryGetValue(i, out var c) ? c
            : _values.TryGetValue(i, out var v) ? empty(v.Shape) : throw new PlanRefusedException($"value '{i}' of node '{node.Name}' is not computed")).ToArray();
        using (no_grad()) return Kernel(node)(inputs, false);
    }

    void Fold(Node node)
    {
        var outputs = Evaluate(node);
        for (int k = 0; k < node.Outputs.Count && k < outputs.Length; k++)
            if (node.Outputs[k].Length > 0) _constants[node.Outputs[k]] = outputs[k].DetachFromDisposeScope();
    }

    PlanBuffer Activation(Node node, int index)
    {
        string name = node.Inputs[index];
        return _values.TryGetValue(name, out var value) ? value : throw new PlanRefusedException($"node '{node.Name}' ({node.OpType}): input '{name}' is not computed");
    }

    Tensor Constant(Node node, int index, string role)
    {
        string? name = node.InputOrNull(index);
        if (name is null || !_constants.TryGetValue(name, out var value)) throw new PlanRefusedException($"node '{node.Name}' ({node.OpType}): the {role} is not a constant");
        if (value.dtype != ScalarType.Float32) throw new PlanRefusedException($"node '{node.Name}' ({node.OpType}): the {role} is {value.dtype}, not float32");
        return value;
    }

    static float[] Floats(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return MemoryMarshal.Cast<byte, float>(c.bytes).ToArray();
    }

    float[] Pinned(ReadOnlySpan<float> values)
    {
        var array = GC.AllocateUninitializedArray<float>(values.Length, pinned: true);
        values.CopyTo(array);
        _keep.Add(array);
        return array;
    }

    float* Address(float[]? pinned) => pinned is null ? null : (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    /// <summary>The node reading <paramref name="value"/> if it is the only reader and the value is not a graph output.</summary>
    Node? SoleReader(string value) =>
        !_graphOutputs.Contains(value) && _consumers.TryGetValue(value, out var list) && list.Count == 1 && list[0].Outputs.Count(o => o.Length > 0) == 1 ? list[0] : null;

    Activation? ActivationOf(Node node)
    {
        switch (node.OpType)
        {
            case "Relu": return new Activation(ActivationKind.Relu);
            case "LeakyRelu": return new Activation(ActivationKind.LeakyRelu, node.GetFloat("alpha", 0.01f));
            case "Sigmoid": return new Activation(ActivationKind.Sigmoid);
            case "Tanh": return new Activation(ActivationKind.Tanh);
            case "Clip":
                if (_graph.Opset < 11) return new Activation(ActivationKind.Clip, node.GetFloat("min", float.NegativeInfinity), node.GetFloat("max", float.PositiveInfinity));
                float Bound(int index, float fallback)
                {
                    if (node.InputOrNull(index) is not { } name) return fallback;
                    return _constants.TryGetValue(name, out var t) && t.numel() == 1 ? t.to(float32).item<float>() : float.NaN;
                }
                float low = Bound(1, float.NegativeInfinity), high = Bound(2, float.PositiveInfinity);
                return float.IsNaN(low) || float.IsNaN(high) ? null : new Activation(ActivationKind.Clip, low, high);
            default: return null;
        }
    }

    /// <summary>Per channel (scale, shift) of an inference BatchNormalization over <paramref name="channels"/> channels, or null.</summary>
    (float[] Scale, float[] Shift)? BatchNormAffine(Node bn, long channels)
    {
        if (bn.GetInt("training_mode", 0) != 0 || bn.Inputs.Count < 5 || bn.Inputs.Skip(1).Take(4).Any(i => !_constants.ContainsKey(i))) return null;
        var parts = Enumerable.Range(1, 4).Select(i => Constant(bn, i, "statistic")).ToArray();
        if (parts.Any(p => p.numel() != channels)) return null;
        var (gamma, beta, mean, variance) = (Floats(parts[0]), Floats(parts[1]), Floats(parts[2]), Floats(parts[3]));
        float epsilon = bn.GetFloat("epsilon", 1e-5f);
        var scale = new float[channels];
        var shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = gamma[c] / MathF.Sqrt(variance[c] + epsilon);
            shift[c] = beta[c] - mean[c] * scale[c];
        }
        return (scale, shift);
    }

    /// <summary>
    /// Takes the bias Add (for a product whose output's last dimension is <paramref name="rows"/>), a BatchNormalization
    /// (when the rows are the output's axis 1) and an activation that follow <paramref name="output"/> into the epilogue.
    /// </summary>
    (string Output, Epilogue Epilogue, List<string> Nodes) Fuse(string output, int rows, long[] shape, bool allowAdd, bool channelsAtAxis1, float[]? scale, float[]? shift)
    {
        var nodes = new List<string>();
        Activation activation = default;
        if (allowAdd && SoleReader(output) is { OpType: "Add" } add)
        {
            string other = add.Inputs[0] == output ? add.Inputs[1] : add.Inputs[0];
            if (_constants.TryGetValue(other, out var bias) && bias.dtype == ScalarType.Float32 && bias.numel() == rows
                && bias.shape.Length <= shape.Length && bias.shape.SkipLast(1).All(d => d == 1))
            {
                var b = Floats(bias);
                shift ??= new float[rows];
                for (int r = 0; r < rows; r++) shift[r] += b[r];
                (output, _) = Consume(add, nodes);
            }
        }
        if (channelsAtAxis1 && SoleReader(output) is { OpType: "BatchNormalization" } bn && BatchNormAffine(bn, rows) is { } affine)
        {
            var (s, t) = affine;
            scale ??= Enumerable.Repeat(1f, rows).ToArray();
            shift ??= new float[rows];
            for (int r = 0; r < rows; r++)
            {
                scale[r] *= s[r];
                shift[r] = shift[r] * s[r] + t[r];
            }
            (output, _) = Consume(bn, nodes);
        }
        if (SoleReader(output) is { } next && ActivationOf(next) is { } act)
        {
            activation = act;
            (output, _) = Consume(next, nodes);
        }
        return (output, new Epilogue(Address(scale is null ? null : Pinned(scale)), Address(shift is null ? null : Pinned(shift)), activation), nodes);
    }

    (string, Node) Consume(Node node, List<string> nodes)
    {
        _fused.Add(node);
        nodes.Add(node.Name);
        return (node.Outputs[0], node);
    }

    void Linear(Node node)
    {
        var x = Activation(node, 0);
        var w = Constant(node, 1, "weight");
        if (w.dim() != 2) Refuse(node, $"the weight has {w.dim()} dimensions, not 2");
        bool gemm = node.OpType == "Gemm";
        if (gemm && (node.GetInt("transA", 0) != 0 || x.Shape.Length != 2)) Refuse(node, "only Gemm with transA = 0 on a 2-D input runs in the plan");
        if (!gemm && x.Shape.Length == 0) Refuse(node, "a scalar input");
        using var weight = gemm && node.GetInt("transB", 0) != 0 ? w.contiguous() : w.t().contiguous();
        int rows = (int)weight.shape[0], columns = (int)weight.shape[1];
        if (x.Shape[^1] != columns) Refuse(node, $"the input [{string.Join(",", x.Shape)}] does not end in the weight's {columns} inputs");
        int m = checked((int)(x.Length / columns));
        long[] shape = gemm ? new long[] { m, rows } : x.Shape.Length == 1 ? new long[] { rows } : x.Shape[..^1].Append(rows).ToArray();
        float[]? scale = null, shift = null;
        if (gemm)
        {
            float alpha = node.GetFloat("alpha", 1f), beta = node.GetFloat("beta", 1f);
            if (alpha != 1f) scale = Enumerable.Repeat(alpha, rows).ToArray();
            if (node.InputOrNull(2) is not null)
            {
                var c = Constant(node, 2, "bias");
                if (c.numel() != rows && c.numel() != 1 || c.dim() > 2 || c.dim() == 2 && c.shape[0] != 1)
                    Refuse(node, $"the bias [{string.Join(",", c.shape)}] is not one value per output");
                var values = Floats(c);
                shift = Enumerable.Range(0, rows).Select(r => beta * values[values.Length == 1 ? 0 : r]).ToArray();
            }
        }
        var (output, epilogue, fused) = Fuse(node.Outputs[0], rows, shape, allowAdd: true, channelsAtAxis1: shape.Length == 2, scale, shift);
        var y = _values[output] = PlanBuffer.Allocate(shape);
        var weights = Floats(weight);
        var dense = DenseMatrix.FromDense(weights, rows, columns);
        var candidates = new List<PlanCandidate> { new(KernelKind.Dense, Product(dense, x, y, m, epilogue)) };
        var layer = _layers.GetValueOrDefault(node);
        // The layer's matrix: N:M, or bitmap or CSR by the measured rule of UnstructuredFormat.
        if (layer != null) candidates.Add(new PlanCandidate(layer.SparseKind, Product(layer.Matrix, x, y, m, epilogue)));
        _steps.Add(new PlanStep(fused.Prepend(node.Name).ToList(), node.OpType, candidates, layer, x.Shape));
    }

    Action Product(SparseMatrix matrix, PlanBuffer x, PlanBuffer y, int m, Epilogue epilogue)
    {
        int threads = _options.Threads, rows = matrix.Rows, columns = matrix.Columns;
        if (m == 1) return () => matrix.MultiplyVector(x.Pointer, y.Pointer, threads, epilogue);
        // Several inputs: the kernel reads them as columns [inputs, m] and writes [rows, m].
        var xt = PlanBuffer.Allocate(new long[] { columns, m });
        var yt = PlanBuffer.Allocate(new long[] { rows, m });
        return () =>
        {
            PlanKernels.Transpose(x.Pointer, xt.Pointer, m, columns);
            matrix.MultiplyColumns(xt.Pointer, yt.Pointer, m, threads, epilogue);
            PlanKernels.Transpose(yt.Pointer, y.Pointer, rows, m);
        };
    }

    void Conv(Node node)
    {
        var x = Activation(node, 0);
        var w = Constant(node, 1, "weight");
        if (x.Shape.Length != 4 || w.dim() != 4) Refuse(node, "only 2-D convolutions run in the plan");
        if (node.GetInt("group", 1) != 1 || w.shape[1] != x.Shape[1]) Refuse(node, $"grouped convolution (group {node.GetInt("group", 1)}) does not run in the plan");
        long[] kernel = w.shape[2..];
        long[] stride = Ops.Conv.Spatial(node.GetInts("strides"), 2, 1), dilation = Ops.Conv.Spatial(node.GetInts("dilations"), 2, 1);
        long[] pads = Padding.Resolve(node, node.GetString("auto_pad", "NOTSET"), node.GetInts("pads"), x.Shape[2..], kernel, stride, dilation);
        int filters = (int)w.shape[0];
        var geometry = new ConvGeometry((int)x.Shape[1], (int)x.Shape[2], (int)x.Shape[3], filters, (int)kernel[0], (int)kernel[1],
            (int)stride[0], (int)stride[1], (int)dilation[0], (int)dilation[1], (int)pads[0], (int)pads[1], (int)pads[2], (int)pads[3]);
        try { geometry.Validate(); }
        catch (ArgumentException e) { Refuse(node, e.Message); }
        float[]? shift = node.InputOrNull(2) is null ? null : Floats(Constant(node, 2, "bias"));
        if (shift != null && shift.Length != filters) Refuse(node, $"the bias has {shift.Length} values for {filters} filters");
        int batch = (int)x.Shape[0];
        long[] shape = { batch, filters, geometry.OutputHeight, geometry.OutputWidth };
        var (output, epilogue, fused) = Fuse(node.Outputs[0], filters, shape, allowAdd: false, channelsAtAxis1: true, null, shift);
        var y = _values[output] = PlanBuffer.Allocate(shape);
        var padded = geometry.Padded ? PlanBuffer.Allocate(new long[] { batch, geometry.Channels, geometry.PaddedHeight, geometry.PaddedWidth }) : null;
        var weights = Floats(w);
        int threads = _options.Threads;
        Action Run(DirectConvolution conv) => () => conv.Run(x.Pointer, padded is null ? null : padded.Pointer, y.Pointer, batch, threads, epilogue);
        var candidates = new List<PlanCandidate> { new(KernelKind.Dense, Run(new DirectConvolution(weights, geometry, keepZeros: true))) };
        var layer = _layers.GetValueOrDefault(node);
        if (layer != null)
        {
            candidates.Add(new PlanCandidate(KernelKind.SparseDirect, Run(new DirectConvolution(weights, geometry))));
            candidates.Add(new PlanCandidate(layer.SparseKind, Im2Col(layer.Matrix, geometry, x, padded, y, batch, epilogue)));
        }
        _steps.Add(new PlanStep(fused.Prepend(node.Name).ToList(), node.OpType, candidates, layer, x.Shape));
    }

    /// <summary>The convolution as the layer's sparse matrix times the im2col columns of each example ([C·kh·kw, OH·OW]).</summary>
    Action Im2Col(SparseMatrix matrix, ConvGeometry g, PlanBuffer x, PlanBuffer? padded, PlanBuffer y, int batch, Epilogue epilogue)
    {
        int positions = g.OutputHeight * g.OutputWidth, threads = _options.Threads;
        var columns = PlanBuffer.Allocate(new long[] { matrix.Columns, positions });
        long inputSize = (long)g.Channels * g.PaddedHeight * g.PaddedWidth, outputSize = (long)g.Filters * positions;
        return () =>
        {
            float* source = DirectConvolution.PaddedInput(g, x.Pointer, padded is null ? null : padded.Pointer, batch);
            for (int n = 0; n < batch; n++)
            {
                PlanKernels.Im2Col(source + n * inputSize, columns.Pointer, g);
                matrix.MultiplyColumns(columns.Pointer, y.Pointer + n * outputSize, positions, threads, epilogue);
            }
        };
    }

    void Single(Node node, PlanBuffer y, Action run)
    {
        _values[node.Outputs[0]] = y;
        _steps.Add(new PlanStep(new[] { node.Name }, node.OpType, new[] { new PlanCandidate(KernelKind.Dense, run) }));
    }

    void Pool(Node node)
    {
        var x = Activation(node, 0);
        if (x.Shape.Length != 4) Refuse(node, "only 2-D pooling runs in the plan");
        if (node.GetInt("ceil_mode", 0) != 0) Refuse(node, "ceil_mode = 1 does not run in the plan");
        if (node.Outputs.Count > 1 && node.Outputs[1].Length > 0) Refuse(node, "the indices output does not run in the plan");
        var kernelShape = node.GetInts("kernel_shape") ?? throw new PlanRefusedException($"node '{node.Name}' ({node.OpType}): kernel_shape is missing");
        long[] kernel = kernelShape.ToArray();
        long[] stride = Ops.Conv.Spatial(node.GetInts("strides"), 2, 1), dilation = Ops.Conv.Spatial(node.GetInts("dilations"), 2, 1);
        long[] pads = Padding.Resolve(node, node.GetString("auto_pad", "NOTSET"), node.GetInts("pads"), x.Shape[2..], kernel, stride, dilation);
        long outH = (x.Shape[2] + pads[0] + pads[2] - ((kernel[0] - 1) * dilation[0] + 1)) / stride[0] + 1;
        long outW = (x.Shape[3] + pads[1] + pads[3] - ((kernel[1] - 1) * dilation[1] + 1)) / stride[1] + 1;
        if (outH < 1 || outW < 1) Refuse(node, "the window is larger than the padded input");
        var y = PlanBuffer.Allocate(new[] { x.Shape[0], x.Shape[1], outH, outW });
        int planes = (int)(x.Shape[0] * x.Shape[1]), h = (int)x.Shape[2], w = (int)x.Shape[3];
        int[] k = kernel.Select(v => (int)v).ToArray(), s = stride.Select(v => (int)v).ToArray(), d = dilation.Select(v => (int)v).ToArray(), p = pads.Select(v => (int)v).ToArray();
        bool max = node.OpType == "MaxPool", countPad = node.GetInt("count_include_pad", 0) != 0;
        Single(node, y, () => PlanKernels.Pool(x.Pointer, y.Pointer, planes, h, w, (int)outH, (int)outW, k, s, d, p, max, countPad));
    }

    void GlobalPool(Node node)
    {
        var x = Activation(node, 0);
        if (x.Shape.Length < 3) Refuse(node, "the input has fewer than 3 dimensions");
        var y = PlanBuffer.Allocate(x.Shape.Select((d, i) => i < 2 ? d : 1).ToArray());
        int planes = (int)(x.Shape[0] * x.Shape[1]), size = (int)PlanBuffer.Elements(x.Shape[2..]);
        bool max = node.OpType == "GlobalMaxPool";
        Single(node, y, () => PlanKernels.GlobalPool(x.Pointer, y.Pointer, planes, size, max));
    }

    /// <summary>Ops that only change the shape (or, in inference, nothing): the output is a view of the input.</summary>
    void View(Node node)
    {
        var x = Activation(node, 0);
        if (node.Outputs.Skip(1).Any(o => o.Length > 0 && (_consumers.ContainsKey(o) || _graphOutputs.Contains(o))))
            Refuse(node, "its second output is read");
        var result = Evaluate(node)[0];
        if (result.numel() != x.Length || result.dtype != ScalarType.Float32) Refuse(node, "the output is not the input reshaped");
        _values[node.Outputs[0]] = x.View(result.shape);
    }

    void Binary(Node node)
    {
        bool aConst = _constants.ContainsKey(node.Inputs[0]);
        var output = aConst ? Activation(node, 1) : Activation(node, 0);
        long[] shape = output.Shape;
        PlanBuffer Operand(int index)
        {
            if (_values.TryGetValue(node.Inputs[index], out var v))
            {
                if (!v.Shape.SequenceEqual(shape)) Refuse(node, $"inputs of shapes [{string.Join(",", _values[node.Inputs[0]].Shape)}] and [{string.Join(",", v.Shape)}] (broadcasting between two computed values does not run in the plan)");
                return v;
            }
            var c = Constant(node, index, "operand");
            if (c.dim() > shape.Length || c.shape.Select((d, i) => d == 1 || d == shape[shape.Length - c.dim() + i]).Any(ok => !ok))
                Refuse(node, $"the constant [{string.Join(",", c.shape)}] does not broadcast to the computed input [{string.Join(",", shape)}]");
            using var expanded = c.broadcast_to(shape).contiguous();
            var buffer = PlanBuffer.Allocate(shape);
            MemoryMarshal.Cast<byte, float>(expanded.bytes).CopyTo(buffer.Data);
            return buffer;
        }
        PlanBuffer a = Operand(0), b = Operand(1);
        var y = PlanBuffer.Allocate(shape);
        string op = node.OpType;
        Single(node, y, () => PlanKernels.Binary(op, a.Pointer, b.Pointer, y.Pointer, y.Length));
    }

    void BatchNorm(Node node)
    {
        var x = Activation(node, 0);
        if (x.Shape.Length < 2 || BatchNormAffine(node, x.Shape[1]) is not { } affine)
            throw new PlanRefusedException($"node '{node.Name}' (BatchNormalization): only inference BatchNormalization with constant per-channel statistics runs in the plan");
        var y = PlanBuffer.Allocate(x.Shape);
        float* s = Address(Pinned(affine.Scale)), t = Address(Pinned(affine.Shift));
        int outer = (int)x.Shape[0], channels = (int)x.Shape[1], inner = (int)PlanBuffer.Elements(x.Shape[2..]);
        nint ps = (nint)s, pt = (nint)t;
        Single(node, y, () => PlanKernels.ChannelAffine(x.Pointer, y.Pointer, outer, channels, inner, (float*)ps, (float*)pt));
    }

    void Softmax(Node node)
    {
        var x = Activation(node, 0);
        int rank = x.Shape.Length;
        bool modern = _graph.Opset >= 13;
        long axis = node.GetInt("axis", modern ? -1 : 1);
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= Math.Max(rank, 1)) Refuse(node, $"axis {node.GetInt("axis", 0)} is out of range for rank {rank}");
        if (modern && axis != rank - 1) Refuse(node, "only a softmax over the last axis runs in the plan");
        int columns = (int)PlanBuffer.Elements(x.Shape[(int)axis..]), rows = (int)(x.Length / Math.Max(columns, 1));
        var y = PlanBuffer.Allocate(x.Shape);
        bool log = node.OpType == "LogSoftmax";
        Single(node, y, () => PlanKernels.Softmax(x.Pointer, y.Pointer, rows, columns, log));
    }

    void Activate(Node node, Activation activation)
    {
        var x = Activation(node, 0);
        var y = PlanBuffer.Allocate(x.Shape);
        Single(node, y, () => PlanKernels.Activate(x.Pointer, y.Pointer, y.Length, activation));
    }
}
