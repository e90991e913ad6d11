using PruneSharp.Engine;
using PruneSharp.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Graph;

/// <summary>
/// A trainable TorchSharp module that owns an explicit <see cref="Graph"/> and runs it node by node with
/// TorchSharp ops. Floating-point initializers are registered as <c>Parameter</c>s under their graph names
/// (e.g. <c>layer1.0.conv1.weight</c>), other constants and op state (BatchNorm running statistics) as buffers,
/// so autograd, optimizers, <c>train()</c>/<c>eval()</c>, <c>to(device)</c>, <c>state_dict</c> and hooks all work.
/// </summary>
public sealed class GraphModule : nn.Module<Tensor, Tensor>
{
    readonly Graph _graph;
    readonly Dictionary<string, int> _slots = new();
    readonly List<Step> _steps = new();
    readonly List<(int Slot, string Name, bool IsParameter)> _stored = new();
    readonly List<(int Slot, Tensor Value)> _folded = new();
    readonly int[] _inputSlots, _outputSlots;
    readonly HashSet<string> _parameterNames = new();

    sealed record Step(Node Node, OpKernel Kernel, int[] Inputs, int[] Outputs, int[] ReleaseAfter);

    /// <summary>Builds the module for <paramref name="graph"/>, compiling every node with <paramref name="registry"/>.</summary>
    /// <exception cref="GraphException">The graph is malformed (cycle, missing value, bad attribute).</exception>
    /// <exception cref="UnsupportedOpException">A node's op is not supported; the message lists the supported ops.</exception>
    public GraphModule(Graph graph, OpRegistry? registry = null) : this(graph, registry, adoptInitializers: false)
    {
    }

    /// <summary>
    /// Builds the module; with <paramref name="adoptInitializers"/> the weights take the graph's initializer tensors
    /// as they are instead of copies, for a caller that made them for this module alone (surgery): the graph's
    /// initializers then change with training.
    /// </summary>
    internal GraphModule(Graph graph, OpRegistry? registry, bool adoptInitializers) : base(string.IsNullOrEmpty(graph.Name) ? "graph" : graph.Name)
    {
        TorchEngine.EnsureLoaded();
        registry ??= OpRegistry.Default;
        _graph = graph;
        IReadOnlyList<Node> order = graph.TopologicalOrder();
        var families = order.ToDictionary(n => n, n => registry.Find(n, graph.Opset));

        int Slot(string name) => _slots.TryGetValue(name, out int s) ? s : _slots[name] = _slots.Count;

        // Initializers: trainable unless not floating point or some consumer says the input is state.
        var stateInputs = new HashSet<string>();
        foreach (var node in order)
            for (int i = 0; i < node.Inputs.Count; i++)
                if (node.Inputs[i].Length > 0 && families[node].IsStateInput(node, i)) stateInputs.Add(node.Inputs[i]);
        var constants = new Dictionary<string, Tensor>();
        foreach (var (name, value) in graph.Initializers)
        {
            bool trainable = value.dtype.ToDataType().IsFloatingPoint() && !stateInputs.Contains(name);
            if (trainable)
            {
                register_parameter(name, new TorchSharp.Modules.Parameter(adoptInitializers ? value.detach() : value.detach().clone(), requires_grad: true));
                _parameterNames.Add(name);
            }
            else
            {
                register_buffer(name, adoptInitializers ? value.detach() : value.detach().clone());
                if (!stateInputs.Contains(name)) constants[name] = value;
            }
            _stored.Add((Slot(name), name, trainable));
        }

        _inputSlots = graph.Inputs.Select(i => Slot(i.Name)).ToArray();
        var context = new CompileContext(graph.Opset, n => constants.GetValueOrDefault(n), Info);
        var lastUse = new Dictionary<int, int>();
        foreach (var node in order)
        {
            OpKernel kernel = families[node].Compile(node, context);
            int[] inputs = node.Inputs.Select(n => n.Length == 0 ? -1 : Slot(n)).ToArray();
            int[] outputs = node.Outputs.Select(n => n.Length == 0 ? -1 : Slot(n)).ToArray();
            if (TryFold(node, kernel, constants, out var values))
            {
                for (int k = 0; k < outputs.Length && k < values.Length; k++)
                    if (outputs[k] >= 0) _folded.Add((outputs[k], values[k]));
                continue;
            }
            foreach (int s in inputs) if (s >= 0) lastUse[s] = _steps.Count;
            _steps.Add(new Step(node, kernel, inputs, outputs, Array.Empty<int>()));
        }
        _outputSlots = graph.Outputs.Select(o => Slot(o.Name)).ToArray();

        // Drop references to intermediates after their last reader (outputs and stored values are kept).
        var keep = new HashSet<int>(_outputSlots.Concat(_stored.Select(s => s.Slot)).Concat(_folded.Select(f => f.Slot)));
        var releases = lastUse.Where(kv => !keep.Contains(kv.Key)).GroupBy(kv => kv.Value)
            .ToDictionary(g => g.Key, g => g.Select(kv => kv.Key).ToArray());
        for (int i = 0; i < _steps.Count; i++)
            if (releases.TryGetValue(i, out var release)) _steps[i] = _steps[i] with { ReleaseAfter = release };
    }

    /// <summary>
    /// The graph this module runs. Its initializer values are those the graph was built with (except in a module made
    /// by surgery, which adopts them); use <see cref="ToGraph"/> for the current weights.
    /// </summary>
    public Graph Graph => _graph;

    /// <summary>Names of the graph's inputs, in order.</summary>
    public IReadOnlyList<string> InputNames => _graph.Inputs.Select(i => i.Name).ToList();

    /// <summary>Names of the graph's outputs, in order.</summary>
    public IReadOnlyList<string> OutputNames => _graph.Outputs.Select(o => o.Name).ToList();

    /// <summary>True if <paramref name="name"/> is a trainable parameter (a floating-point weight), false for buffers.</summary>
    public bool IsParameter(string name) => _parameterNames.Contains(name);

    /// <summary>
    /// Every weight by its graph name: trainable parameters and buffers (constants, running statistics), in
    /// initializer order. One pass over the module (looking names up one by one costs a walk each in TorchSharp).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Weights()
    {
        var all = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in named_parameters()) all[name] = parameter;
        foreach (var (name, buffer) in named_buffers()) all[name] = buffer;
        return _stored.ToDictionary(s => s.Name, s => all[s.Name]);
    }

    /// <summary>Runs the graph on its single input and returns its first output.</summary>
    public override Tensor forward(Tensor input) => Run(new[] { input })[0];

    /// <summary>Runs the graph and returns its outputs in order.</summary>
    /// <param name="inputs">One tensor per graph input, in order.</param>
    /// <param name="captured">If given, receives the values named in <paramref name="capture"/> (intermediates included).</param>
    /// <param name="capture">Names of values to capture, e.g. a layer's output for activation statistics.</param>
    public Tensor[] Run(IReadOnlyList<Tensor> inputs, IDictionary<string, Tensor>? captured = null, IReadOnlyCollection<string>? capture = null)
    {
        if (captured == null || capture == null) return Execute(inputs, null, null);
        var kept = new HashSet<int>();
        foreach (string name in capture)
            kept.Add(_slots.TryGetValue(name, out int slot) ? slot : throw new GraphException($"cannot capture '{name}': no value of that name in the graph"));
        return Execute(inputs, kept, (slot, name, value) => { if (kept.Contains(slot)) captured[name] = value; });
    }

    /// <summary>
    /// Runs the graph and shows <paramref name="observe"/> every value once, by name, as soon as it exists (inputs,
    /// weights, then each node's outputs): enough to record shapes or statistics without keeping every intermediate
    /// alive. A value may be freed after its last reader, so <paramref name="observe"/> must not hold on to it.
    /// </summary>
    public Tensor[] Run(IReadOnlyList<Tensor> inputs, Action<string, Tensor> observe) =>
        Execute(inputs, null, (_, name, value) => observe(name, value));

    Tensor[] Execute(IReadOnlyList<Tensor> inputs, HashSet<int>? kept, Action<int, string, Tensor>? observe)
    {
        CheckInputs(inputs);
        var env = new Tensor?[_slots.Count];
        for (int i = 0; i < _inputSlots.Length; i++) env[_inputSlots[i]] = inputs[i];
        var weights = Weights();
        foreach (var (slot, name, _) in _stored) env[slot] = weights[name];
        foreach (var (slot, value) in _folded) env[slot] = value;
        if (observe != null)
            foreach (var (name, slot) in _slots)
                if (env[slot] is { } known) observe(slot, name, known);

        foreach (var step in _steps)
        {
            var args = new Tensor?[step.Inputs.Length];
            for (int i = 0; i < args.Length; i++) args[i] = step.Inputs[i] < 0 ? null : env[step.Inputs[i]];
            Tensor[] results;
            try
            {
                results = step.Kernel(args, training);
            }
            catch (Exception e) when (e is not GraphException)
            {
                throw new GraphException($"node '{step.Node.Name}' ({step.Node.OpType}) failed: {e.Message.Split('\n')[0]}", e);
            }
            for (int k = 0; k < step.Outputs.Length && k < results.Length; k++)
            {
                int slot = step.Outputs[k];
                if (slot < 0) continue;
                env[slot] = results[k];
                observe?.Invoke(slot, step.Node.Outputs[k], results[k]);
            }
            Release(env, step.ReleaseAfter, inputs, kept);
        }
        return _outputSlots.Select((s, i) => env[s] ?? throw new GraphException($"graph output '{_graph.Outputs[i].Name}' was not computed")).ToArray();
    }

    /// <summary>
    /// Frees intermediates after their last reader, so that native memory is reused at once instead of waiting for
    /// the garbage collector. A tensor still held by another slot (ops such as Identity or Reshape may return the
    /// same handle) or passed in by the caller is only dropped, not disposed; a captured (<paramref name="kept"/>)
    /// slot stays. Autograd keeps its own references to what backward needs, so this is safe in training too.
    /// </summary>
    static void Release(Tensor?[] env, int[] slots, IReadOnlyList<Tensor> inputs, HashSet<int>? kept)
    {
        foreach (int slot in slots)
        {
            if (kept != null && kept.Contains(slot)) continue;
            var value = env[slot];
            env[slot] = null;
            if (value is null || inputs.Any(i => ReferenceEquals(i, value)) || env.Any(v => ReferenceEquals(v, value))) continue;
            value.Dispose();
        }
    }

    /// <summary>A copy of the graph with the module's current weights and buffers as initializers (for export).</summary>
    public Graph ToGraph()
    {
        var copy = _graph.WithoutInitializers();
        foreach (var (name, value) in Weights()) copy.Initializers[name] = value.detach().cpu();
        return copy;
    }

    ValueInfo? Info(string name) =>
        _graph.ValueInfos.GetValueOrDefault(name) ?? _graph.Inputs.Concat(_graph.Outputs).FirstOrDefault(v => v.Name == name);

    static bool TryFold(Node node, OpKernel kernel, Dictionary<string, Tensor> constants, out Tensor[] values)
    {
        values = Array.Empty<Tensor>();
        if (node.OpType is "Dropout" or "RandomNormal" or "RandomUniform" or "RandomNormalLike" or "RandomUniformLike" or "Multinomial"
            || node.Inputs.Any(n => n.Length > 0 && !constants.ContainsKey(n)))
            return false;
        using (no_grad())
            values = kernel(node.Inputs.Select(n => n.Length == 0 ? null : constants[n]).ToArray(), false);
        for (int k = 0; k < node.Outputs.Count && k < values.Length; k++)
            if (node.Outputs[k].Length > 0) constants[node.Outputs[k]] = values[k];
        return true;
    }

    void CheckInputs(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count != _inputSlots.Length)
            throw new GraphException($"the graph takes {_inputSlots.Length} input(s) ({string.Join(", ", InputNames)}), got {inputs.Count}");
        for (int i = 0; i < inputs.Count; i++)
        {
            var expected = _graph.Inputs[i];
            var actual = inputs[i];
            if (expected.Shape is { } shape)
            {
                if (shape.Count != actual.dim())
                    throw new GraphException($"input '{expected.Name}' must have rank {shape.Count} ({string.Join("x", shape)}), got shape [{string.Join(",", actual.shape)}]");
                for (int d = 0; d < shape.Count; d++)
                    if (shape[d].Size is long size && size != actual.shape[d])
                        throw new GraphException($"input '{expected.Name}' must have size {size} in dimension {d} ({string.Join("x", shape)}), got shape [{string.Join(",", actual.shape)}]");
            }
            if (expected.ElementType != DataType.Undefined && actual.dtype.ToDataType() != expected.ElementType)
                throw new GraphException($"input '{expected.Name}' must be {expected.ElementType}, got {actual.dtype}");
        }
    }
}
