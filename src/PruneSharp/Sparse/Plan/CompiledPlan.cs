using System.Runtime.InteropServices;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>
/// A pruned graph compiled for the CPU without the executor: for each set of input shapes, a list of steps over float
/// buffers allocated once (views share them), with each Gemm/MatMul/Conv's bias, following BatchNormalization and
/// activation applied in its kernel's epilogue, and the other supported ops as plain loops. Nothing is allocated and
/// libtorch is not called per run, except the output tensors handed back. Each weight step picks, by measuring on the
/// first input of a shape (or as <see cref="SparseModelOptions.Selection"/> imposes), between a dense loop and the
/// layer's sparse kernel (for a convolution: direct sparse convolution). A graph with an op outside
/// <see cref="SupportedOps"/> gets no plan; a shape the plan cannot take (see <see cref="Refusal"/>) runs in the
/// executor.
/// </summary>
public sealed class CompiledPlan
{
    readonly Graph.Graph _graph;
    readonly SparseModelOptions _options;
    readonly IReadOnlyDictionary<Node, SparseLayer> _layers;
    readonly Dictionary<string, Instance?> _instances = new(StringComparer.Ordinal);
    Instance? _last;

    CompiledPlan(Graph.Graph graph, SparseModelOptions options, IReadOnlyDictionary<Node, SparseLayer> layers)
    {
        _graph = graph;
        _options = options;
        _layers = layers;
    }

    /// <summary>
    /// The ops a plan runs on computed values (nodes whose inputs are all constant are evaluated once when a shape is
    /// compiled, whatever their op, as are Shape and Size).
    /// </summary>
    public static IReadOnlyList<string> SupportedOps { get; } = new[]
    {
        "Gemm", "MatMul", "Conv", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "BatchNormalization",
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity",
        "Dropout", "Softmax", "LogSoftmax",
    };

    /// <summary>
    /// The plan for <paramref name="graph"/>, or null with the reason in <paramref name="refusal"/> when an input is not
    /// float32 or a node computed from the inputs has an op outside <see cref="SupportedOps"/>.
    /// </summary>
    internal static CompiledPlan? TryCreate(Graph.Graph graph, SparseModelOptions options, IReadOnlyDictionary<Node, SparseLayer> layers, out string? refusal)
    {
        refusal = null;
        if (graph.Inputs.FirstOrDefault(i => i.ElementType != DataType.Float) is { } input)
        {
            refusal = $"input '{input.Name}' is {input.ElementType}, the plan takes float32 inputs";
            return null;
        }
        var computed = graph.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var node in graph.TopologicalOrder())
        {
            if (!node.Inputs.Any(computed.Contains) || node.OpType is "Shape" or "Size") continue;
            if (node.Domain is not ("" or "ai.onnx") || !SupportedOps.Contains(node.OpType))
            {
                refusal = $"node '{node.Name}' ({(node.Domain is "" or "ai.onnx" ? "" : node.Domain + ".")}{node.OpType}) is not one the compiled plan runs";
                return null;
            }
            if (node.OpType is "Gemm" or "MatMul" or "Conv" && (node.Inputs.Count < 2 || computed.Contains(node.Inputs[1])))
            {
                refusal = $"node '{node.Name}' ({node.OpType}) multiplies two computed values; the plan needs a constant weight";
                return null;
            }
            computed.UnionWith(node.Outputs.Where(o => o.Length > 0));
        }
        return new CompiledPlan(graph, options, layers);
    }

    /// <summary>Why the plan could not take the most recent input shapes it was refused for; null if none was refused.</summary>
    public string? Refusal { get; private set; }

    /// <summary>The steps of the most recently run input shapes (empty before the first run).</summary>
    public IReadOnlyList<PlanStepInfo> Steps =>
        _last?.Steps.Select(s => new PlanStepInfo(s.Nodes, s.Op, s.Candidates.Count > 1 || s.Op is "Gemm" or "MatMul" or "Conv" ? s.Candidates[s.Chosen].Kind : null)).ToList()
        ?? new List<PlanStepInfo>();

    /// <summary>
    /// Runs the plan on <paramref name="inputs"/> (float32 CPU tensors, one per graph input); false when they are not
    /// such tensors or the plan cannot take their shapes (<see cref="Refusal"/> says why), and the caller runs the executor.
    /// </summary>
    internal bool TryRun(IReadOnlyList<Tensor> inputs, out Tensor[] outputs)
    {
        outputs = Array.Empty<Tensor>();
        if (inputs.Count != _graph.Inputs.Count || inputs.Any(t => t.dtype != ScalarType.Float32 || t.device_type != TorchSharp.DeviceType.CPU)) return false;
        lock (_instances)
        {
            var instance = Find(inputs);
            if (instance is null) return false;
            for (int k = 0; k < inputs.Count; k++) Copy(inputs[k], instance.Inputs[k]);
            if (!instance.Chosen) Choose(instance);
            else foreach (var step in instance.Steps) step.Run();
            outputs = instance.Outputs.Select(Output).ToArray();
            return true;
        }
    }

    Instance? Find(IReadOnlyList<Tensor> inputs)
    {
        if (_last is { } last && Same(last.Inputs, inputs)) return last;
        string key = string.Join(";", inputs.Select(t => string.Join("x", t.shape)));
        if (!_instances.TryGetValue(key, out var instance))
        {
            try
            {
                var (buffers, steps, outputs, keep) = PlanBuilder.Build(_graph, _options, _layers, inputs.Select(t => t.shape).ToList());
                instance = new Instance(buffers, steps, outputs, keep);
            }
            catch (PlanRefusedException e)
            {
                Refusal = $"input shapes {key}: {e.Message}";
                instance = null;
            }
            _instances[key] = instance;
        }
        if (instance != null) _last = instance;
        return instance;
    }

    static bool Same(PlanBuffer[] buffers, IReadOnlyList<Tensor> inputs)
    {
        for (int k = 0; k < buffers.Length; k++)
            if (!buffers[k].Shape.AsSpan().SequenceEqual(inputs[k].shape)) return false;
        return true;
    }

    static void Copy(Tensor input, PlanBuffer buffer)
    {
        if (input.is_contiguous()) MemoryMarshal.Cast<byte, float>(input.bytes).CopyTo(buffer.Data);
        else
        {
            using var contiguous = input.contiguous();
            MemoryMarshal.Cast<byte, float>(contiguous.bytes).CopyTo(buffer.Data);
        }
    }

    static Tensor Output(PlanBuffer buffer)
    {
        var tensor = empty(buffer.Shape);
        buffer.Data.AsSpan().CopyTo(MemoryMarshal.Cast<byte, float>(tensor.bytes));
        return tensor;
    }

    /// <summary>
    /// The first run of a shape: each step with several kernels times them alternately on its actual input (or takes
    /// the sparse one when imposed), keeps one and records the decision in the node's <see cref="SparseLayer"/>.
    /// </summary>
    void Choose(Instance instance)
    {
        foreach (var step in instance.Steps)
        {
            if (step.Candidates.Count > 1)
            {
                var timed = _options.Selection == KernelSelection.Sparse ? step.Candidates.Skip(1).ToList() : step.Candidates.ToList();
                LatencyStats[] stats = timed.Count > 1 ? AlternatingTimer.Measure(_options.MeasureRounds, timed.Select(c => c.Run).ToList()).ToArray() : Array.Empty<LatencyStats>();
                int best = stats.Length == 0 ? 0 : Array.IndexOf(stats, stats.MinBy(s => s.Median));
                step.Chosen = step.Candidates.ToList().IndexOf(timed[best]);
                var kind = step.Candidates[step.Chosen].Kind;
                // Dense against the fastest sparse kernel (for a convolution, direct or through im2col).
                int sparse = stats.Length < 2 ? -1 : Enumerable.Range(1, stats.Length - 1).MinBy(i => stats[i].Median);
                var measurement = sparse > 0 && _options.Selection == KernelSelection.Measure
                    ? new KernelMeasurement(stats[0], stats[sparse], timed[sparse].Kind) : null;
                step.Layer?.Record(new LayerDecision(step.InputShape!, kind, measurement, Compiled: true));
            }
            step.Run();
        }
        instance.Chosen = true;
    }

    /// <summary>The steps of the most recently run input shapes, for tests that run every candidate.</summary>
    internal IReadOnlyList<PlanStep> CurrentSteps => _last?.Steps ?? new List<PlanStep>();

    sealed class Instance(PlanBuffer[] inputs, List<PlanStep> steps, PlanBuffer[] outputs, List<object> keep)
    {
        public PlanBuffer[] Inputs { get; } = inputs;
        public List<PlanStep> Steps { get; } = steps;
        public PlanBuffer[] Outputs { get; } = outputs;
        public List<object> Keep { get; } = keep;
        public bool Chosen { get; set; }
    }
}
