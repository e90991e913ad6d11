using static TorchSharp.torch;

namespace PruneSharp.Graph;

/// <summary>
/// Builds a <see cref="Graph"/> (and from it a <see cref="GraphModule"/>) from C#: layers are added in data-flow
/// order, each returning the <see cref="Value"/> it produces, with shapes tracked so that channel counts need not
/// be repeated. Weights are initialised as PyTorch initialises its layers by default
/// (U(−1/√fan_in, 1/√fan_in) for convolution and linear weights and biases, BatchNorm scale 1 and shift 0),
/// from a seeded generator, so a model built twice with one seed is identical.
/// </summary>
public sealed class GraphBuilder
{
    readonly Graph _graph;
    readonly Generator _generator;
    readonly Dictionary<string, int> _nameCounts = new();

    /// <summary>A value produced while building: its name and shape (null entries are dynamic, e.g. batch).</summary>
    /// <param name="Name">The graph value's name.</param>
    /// <param name="Shape">The shape; null for a dimension not known while building.</param>
    public sealed record Value(string Name, long?[] Shape)
    {
        /// <summary>The rank.</summary>
        public int Rank => Shape.Length;
        /// <summary>Size of dimension <paramref name="d"/> (negative counts from the end); throws if it is dynamic.</summary>
        public long Size(int d) => Shape[d < 0 ? d + Shape.Length : d]
            ?? throw new GraphException($"dimension {d} of '{Name}' is not known while building");
    }

    /// <summary>Starts an empty graph.</summary>
    /// <param name="name">The model's name.</param>
    /// <param name="seed">Seed for weight initialisation.</param>
    /// <param name="opset">The ONNX opset the nodes follow.</param>
    public GraphBuilder(string name, long seed = 0, int opset = 17)
    {
        _graph = new Graph { Name = name, Opset = opset };
        _generator = new Generator((ulong)seed);
    }

    /// <summary>Declares a float graph input; a null dimension is symbolic (named <c>batch</c> if first).</summary>
    public Value Input(string name, params long?[] shape) => DeclareInput(name, DataType.Float, shape);

    /// <summary>Declares an int64 graph input (e.g. token ids).</summary>
    public Value Int64Input(string name, params long?[] shape) => DeclareInput(name, DataType.Int64, shape);

    Value DeclareInput(string name, DataType type, long?[] shape)
    {
        var dims = shape.Select((s, i) => s is long n ? new Dim(n) : Dim.Named(i == 0 ? "batch" : $"{name}_dim{i}")).ToArray();
        _graph.Inputs.Add(new ValueInfo(name, type, dims));
        return new Value(name, shape);
    }

    /// <summary>Marks <paramref name="value"/> as a graph output named <paramref name="name"/>.</summary>
    public void Output(Value value, string name)
    {
        string outputName = value.Name;
        if (name != value.Name)
        {
            Add("Identity", name, new[] { value.Name }, null, name);
            outputName = name;
        }
        var dims = value.Shape.Select((s, i) => s is long n ? new Dim(n) : Dim.Named(i == 0 ? "batch" : "?")).ToArray();
        _graph.Outputs.Add(new ValueInfo(outputName, DataType.Float, dims));
    }

    /// <summary>The graph built so far.</summary>
    public Graph Graph => _graph;

    /// <summary>Builds the trainable module.</summary>
    public GraphModule Build() => new(_graph);

    // ---- layers with weights ----

    /// <summary>2-D convolution (NCHW): weight <c>{name}.weight</c> [out, in/groups, k, k], optional bias.</summary>
    public Value Conv2d(Value x, long outChannels, long kernel, string name, long stride = 1, long padding = 0,
        long groups = 1, bool bias = true, long dilation = 1)
    {
        long inChannels = x.Size(1);
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new GraphException($"{name}: channels {inChannels}->{outChannels} are not divisible by groups {groups}");
        long fanIn = inChannels / groups * kernel * kernel;
        var inputs = new List<string> { x.Name, Weight($"{name}.weight", fanIn, outChannels, inChannels / groups, kernel, kernel) };
        if (bias) inputs.Add(Weight($"{name}.bias", fanIn, outChannels));
        var attributes = new Dictionary<string, AttributeValue>
        {
            ["kernel_shape"] = AttributeValue.FromInts(new[] { kernel, kernel }),
            ["strides"] = AttributeValue.FromInts(new[] { stride, stride }),
            ["pads"] = AttributeValue.FromInts(new[] { padding, padding, padding, padding }),
            ["dilations"] = AttributeValue.FromInts(new[] { dilation, dilation }),
            ["group"] = AttributeValue.FromInt(groups),
        };
        string output = Add("Conv", name, inputs, attributes, name);
        return new Value(output, new[] { x.Shape[0], outChannels, Spatial(x.Shape[2], kernel, stride, padding, dilation), Spatial(x.Shape[3], kernel, stride, padding, dilation) });
    }

    /// <summary>
    /// Fully connected layer on the last dimension. For 2-D inputs: Gemm with <c>{name}.weight</c> [out, in] (PyTorch's
    /// layout); for higher ranks: MatMul with <c>{name}.weight</c> stored [in, out] (as ONNX exports and GPT-2's Conv1D
    /// store it) and Add of <c>{name}.bias</c>.
    /// </summary>
    public Value Linear(Value x, long outFeatures, string name, bool bias = true)
    {
        long inFeatures = x.Size(-1);
        var shape = x.Shape[..^1].Append(outFeatures).ToArray();
        if (x.Rank == 2)
        {
            var inputs = new List<string> { x.Name, Weight($"{name}.weight", inFeatures, outFeatures, inFeatures) };
            if (bias) inputs.Add(Weight($"{name}.bias", inFeatures, outFeatures));
            return new Value(Add("Gemm", name, inputs, new() { ["transB"] = AttributeValue.FromInt(1) }, name), shape);
        }
        string weight = Weight($"{name}.weight", inFeatures, inFeatures, outFeatures);
        string product = Add("MatMul", bias ? $"{name}.matmul" : name, new[] { x.Name, weight }, null, null);
        if (!bias) return new Value(product, shape);
        string biasName = Weight($"{name}.bias", inFeatures, outFeatures);
        return new Value(Add("Add", name, new[] { product, biasName }, null, null), shape);
    }

    /// <summary>Batch normalisation over channel dimension 1: scale, shift and running statistics.</summary>
    public Value BatchNorm(Value x, string name, float epsilon = 1e-5f, float momentum = 0.9f)
    {
        long channels = x.Size(1);
        string scale = Initializer($"{name}.weight", ones(channels));
        string shift = Initializer($"{name}.bias", zeros(channels));
        string mean = Initializer($"{name}.running_mean", zeros(channels));
        string variance = Initializer($"{name}.running_var", ones(channels));
        var attributes = new Dictionary<string, AttributeValue> { ["epsilon"] = AttributeValue.FromFloat(epsilon), ["momentum"] = AttributeValue.FromFloat(momentum) };
        return x with { Name = Add("BatchNormalization", name, new[] { x.Name, scale, shift, mean, variance }, attributes, name) };
    }

    /// <summary>Layer normalisation over the last dimension with scale and shift.</summary>
    public Value LayerNorm(Value x, string name, float epsilon = 1e-5f)
    {
        long features = x.Size(-1);
        string scale = Initializer($"{name}.weight", ones(features));
        string shift = Initializer($"{name}.bias", zeros(features));
        var attributes = new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(-1), ["epsilon"] = AttributeValue.FromFloat(epsilon) };
        return x with { Name = Add("LayerNormalization", name, new[] { x.Name, scale, shift }, attributes, name) };
    }

    /// <summary>An embedding table <c>{name}.weight</c> [count, dim] looked up by int64 ids (Gather), initialised N(0, 1) as PyTorch does.</summary>
    public Value Embedding(Value ids, long count, long dim, string name, float std = 1f)
    {
        string table = Initializer($"{name}.weight", randn(new[] { count, dim }, generator: _generator) * std);
        return new Value(Add("Gather", name, new[] { table, ids.Name }, new() { ["axis"] = AttributeValue.FromInt(0) }, name),
            ids.Shape.Append(dim).ToArray());
    }

    // ---- weightless layers ----

    /// <summary>ReLU.</summary>
    public Value Relu(Value x, string? name = null) => Unary("Relu", x, name);
    /// <summary>ReLU6 = Clip(x, 0, 6), as in MobileNetV2.</summary>
    public Value Relu6(Value x, string? name = null)
    {
        name ??= Unique("relu6");
        string low = ConstantNode($"{name}.min", tensor(0f)), high = ConstantNode($"{name}.max", tensor(6f));
        return x with { Name = Add("Clip", name, new[] { x.Name, low, high }, null, null) };
    }
    /// <summary>GELU (erf form), spelled with Erf so that it runs at any opset.</summary>
    public Value Gelu(Value x, string? name = null)
    {
        name ??= Unique("gelu");
        string scaled = Scalar("Div", x.Name, MathF.Sqrt(2f), $"{name}.div");
        string erf = Add("Erf", $"{name}.erf", new[] { scaled }, null, null);
        string onePlus = Scalar("Add", erf, 1f, $"{name}.add");
        string product = Add("Mul", $"{name}.mul", new[] { x.Name, onePlus }, null, null);
        return x with { Name = Scalar("Mul", product, 0.5f, $"{name}.half") };
    }
    /// <summary>Element-wise sum (residual connection).</summary>
    public Value Add(Value a, Value b, string? name = null) => a with { Name = Add("Add", name ?? Unique("add"), new[] { a.Name, b.Name }, null, null) };

    /// <summary>Max pooling with a square window.</summary>
    public Value MaxPool2d(Value x, long kernel, long? stride = null, long padding = 0, bool ceilMode = false, string? name = null) =>
        Pool("MaxPool", x, kernel, stride ?? kernel, padding, ceilMode, name);

    /// <summary>Average pooling with a square window (padding not counted).</summary>
    public Value AvgPool2d(Value x, long kernel, long? stride = null, long padding = 0, bool ceilMode = false, string? name = null) =>
        Pool("AveragePool", x, kernel, stride ?? kernel, padding, ceilMode, name);

    /// <summary>Global average pooling to [N, C, 1, 1].</summary>
    public Value GlobalAvgPool(Value x, string? name = null) =>
        new(Add("GlobalAveragePool", name ?? Unique("global_pool"), new[] { x.Name }, null, null), new[] { x.Shape[0], x.Shape[1], 1L, 1L });

    /// <summary>Flattens all dimensions after the first.</summary>
    public Value Flatten(Value x, string? name = null)
    {
        long? features = x.Shape.Skip(1).All(s => s.HasValue) ? x.Shape.Skip(1).Aggregate(1L, (p, s) => p * s!.Value) : null;
        return new Value(Add("Flatten", name ?? Unique("flatten"), new[] { x.Name }, new() { ["axis"] = AttributeValue.FromInt(1) }, null), new[] { x.Shape[0], features });
    }

    /// <summary>Multiplies by a constant scalar.</summary>
    public Value Scale(Value x, float factor, string name) => x with { Name = Scalar("Mul", x.Name, factor, name) };

    /// <summary>Matrix product with NumPy-style batch broadcasting.</summary>
    public Value MatMul(Value a, Value b, string name)
    {
        var shape = a.Shape[..^1].Append(b.Shape[^1]).ToArray();
        return new Value(Add("MatMul", name, new[] { a.Name, b.Name }, null, null), shape);
    }

    /// <summary>Reshape to <paramref name="shape"/> (0 copies the input's size, −1 is inferred).</summary>
    public Value Reshape(Value x, long[] shape, string name)
    {
        string target = ConstantNode($"{name}.shape", tensor(shape));
        var result = shape.Select((s, i) => s == 0 ? x.Shape[i] : s < 0 ? null : (long?)s).ToArray();
        return new Value(Add("Reshape", name, new[] { x.Name, target }, null, null), result);
    }

    /// <summary>Permutes dimensions.</summary>
    public Value Transpose(Value x, long[] perm, string name) =>
        new(Add("Transpose", name, new[] { x.Name }, new() { ["perm"] = AttributeValue.FromInts(perm) }, null), perm.Select(p => x.Shape[p]).ToArray());

    /// <summary>Softmax along <paramref name="axis"/>.</summary>
    public Value Softmax(Value x, long axis, string name) =>
        x with { Name = Add("Softmax", name, new[] { x.Name }, new() { ["axis"] = AttributeValue.FromInt(axis) }, null) };

    /// <summary>
    /// A learned table <c>{name}.weight</c> [<paramref name="rows"/>, <paramref name="dim"/>] of which the first T rows
    /// are returned, T being dimension <paramref name="lengthAxis"/> of <paramref name="like"/> (learned positions).
    /// </summary>
    public Value LeadingRows(Value like, long lengthAxis, long rows, long dim, string name, float std = 1f)
    {
        string table = Initializer($"{name}.weight", randn(new[] { rows, dim }, generator: _generator) * std);
        string length = Add("Shape", $"{name}.length", new[] { like.Name }, new() { ["start"] = AttributeValue.FromInt(lengthAxis), ["end"] = AttributeValue.FromInt(lengthAxis + 1) }, null);
        string start = ConstantNode($"{name}.start", tensor(new long[] { 0 }));
        return new Value(Add("Slice", name, new[] { table, start, length }, null, null), new[] { like.Shape[lengthAxis], (long?)dim });
    }

    /// <summary>
    /// Sets the strictly upper triangle of the last two (equal, dynamic) dimensions of <paramref name="scores"/> to
    /// −∞, so that position t attends only to positions ≤ t; supports lengths up to <paramref name="maxLength"/>.
    /// </summary>
    public Value CausalMask(Value scores, long maxLength, string name)
    {
        string allowed = ConstantNode($"{name}.allowed", ones(maxLength, maxLength, dtype: ScalarType.Bool).tril());
        string length = Add("Shape", $"{name}.length", new[] { scores.Name }, new() { ["start"] = AttributeValue.FromInt(-1) }, null);
        string ends = Add("Concat", $"{name}.ends", new[] { length, length }, new() { ["axis"] = AttributeValue.FromInt(0) }, null);
        string starts = ConstantNode($"{name}.starts", tensor(new long[] { 0, 0 }));
        string window = Add("Slice", $"{name}.window", new[] { allowed, starts, ends }, null, null);
        string blocked = ConstantNode($"{name}.blocked", tensor(float.NegativeInfinity));
        return scores with { Name = Add("Where", name, new[] { window, scores.Name, blocked }, null, null) };
    }

    // ---- plumbing ----

    Value Unary(string op, Value x, string? name) => x with { Name = Add(op, name ?? Unique(op.ToLowerInvariant()), new[] { x.Name }, null, null) };

    Value Pool(string op, Value x, long kernel, long stride, long padding, bool ceilMode, string? name)
    {
        var attributes = new Dictionary<string, AttributeValue>
        {
            ["kernel_shape"] = AttributeValue.FromInts(new[] { kernel, kernel }),
            ["strides"] = AttributeValue.FromInts(new[] { stride, stride }),
            ["pads"] = AttributeValue.FromInts(new[] { padding, padding, padding, padding }),
            ["ceil_mode"] = AttributeValue.FromInt(ceilMode ? 1 : 0),
        };
        string output = Add(op, name ?? Unique(op.ToLowerInvariant()), new[] { x.Name }, attributes, null);
        return new Value(output, new[] { x.Shape[0], x.Shape[1], Spatial(x.Shape[2], kernel, stride, padding, 1, ceilMode), Spatial(x.Shape[3], kernel, stride, padding, 1, ceilMode) });
    }

    string Scalar(string op, string input, float value, string name) =>
        Add(op, name, new[] { input, ConstantNode($"{name}.value", tensor(value)) }, null, null);

    /// <summary>A <c>Constant</c> node: a fixed, non-trainable tensor (unlike an initializer, never a parameter).</summary>
    string ConstantNode(string name, TorchSharp.torch.Tensor value) =>
        Add("Constant", name, Array.Empty<string>(), new() { ["value"] = AttributeValue.FromTensor(value) }, null);

    /// <summary>Adds a node; returns the name of its output (the node's name unless <paramref name="output"/> says otherwise).</summary>
    string Add(string op, string name, IEnumerable<string> inputs, Dictionary<string, AttributeValue>? attributes, string? output)
    {
        if (_graph.Nodes.Any(n => n.Name == name)) throw new GraphException($"a node named '{name}' already exists");
        output ??= name;
        _graph.Nodes.Add(new Node(name, op, inputs, new[] { output }, attributes));
        return output;
    }

    string Weight(string name, long fanIn, params long[] shape)
    {
        double bound = 1.0 / Math.Sqrt(fanIn);
        return Initializer(name, (rand(shape, generator: _generator) * 2 - 1) * bound);
    }

    string Initializer(string name, TorchSharp.torch.Tensor value)
    {
        if (_graph.Initializers.ContainsKey(name)) throw new GraphException($"an initializer named '{name}' already exists");
        _graph.Initializers[name] = value;
        return name;
    }

    string Unique(string stem)
    {
        int n = _nameCounts.GetValueOrDefault(stem);
        _nameCounts[stem] = n + 1;
        return $"{stem}_{n}";
    }

    static long? Spatial(long? size, long kernel, long stride, long padding, long dilation, bool ceilMode = false)
    {
        if (size is not long n) return null;
        long span = n + 2 * padding - dilation * (kernel - 1) - 1;
        if (span < 0) throw new GraphException($"a window of {kernel} (dilation {dilation}) does not fit an input of size {n} with padding {padding}");
        long output = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
        // ONNX (like PyTorch) drops a last window that would start in the right padding.
        if (ceilMode && (output - 1) * stride >= n + padding) output--;
        return output;
    }
}
