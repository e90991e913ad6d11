using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>
/// A pruned ONNX model executed with sparse kernels where they pay: every Gemm, MatMul-by-weight and 2-D Conv whose
/// float32 weight is at least <see cref="SparseModelOptions.MinSparsity"/> zeros gets a <see cref="SparseLayer"/>
/// (bitmap or CSR as <see cref="UnstructuredFormat"/> chooses, or compact N:M when the weight fits a pattern), which picks dense or sparse per input shape; every other node
/// runs in PruneSharp's executor as usual. Inference only: in training mode, or with gradients wanted, layers run dense.
/// The dense weights stay in the module (a layer may choose dense, and <see cref="Module"/> is an ordinary
/// <see cref="GraphModule"/>). When every node is of an op the <see cref="CompiledPlan"/> runs, <see cref="Run"/> goes
/// through the plan instead of the executor: preallocated buffers, bias and activation fused into the kernels, no
/// per-node tensors.
/// </summary>
public sealed class SparseModel : IDisposable
{
    readonly GraphModule _module;

    /// <summary>Builds the sparse model for <paramref name="graph"/>.</summary>
    /// <exception cref="ArgumentException">The options are out of range.</exception>
    /// <exception cref="GraphException">The graph cannot be run (see <see cref="GraphModule"/>).</exception>
    public SparseModel(Graph.Graph graph, SparseModelOptions? options = null)
    {
        Options = options ?? new SparseModelOptions();
        Options.Validate();
        Engine.TorchEngine.EnsureLoaded();
        var layers = new Dictionary<Node, SparseLayer>(ReferenceEqualityComparer.Instance);
        foreach (var node in graph.Nodes)
            if (node.Domain is "" or "ai.onnx" && SparseLayer.TryCreate(node, graph, Options) is { } layer)
                layers[node] = layer;
        Layers = graph.Nodes.Where(layers.ContainsKey).Select(n => layers[n]).ToList();
        Registry = new OpRegistry(BuiltInOps.All().Select(f => f.OpTypes.Any(t => t is "Gemm" or "MatMul" or "Conv") ? new SparseOpFamily(f, layers) : f));
        _module = new GraphModule(graph, Registry);
        _module.eval();
        string? refusal = "compiled plans are switched off";
        if (Options.Compile) Plan = CompiledPlan.TryCreate(graph, Options, layers, out refusal);
        PlanRefusal = refusal;
    }

    /// <summary>Reads the ONNX file at <paramref name="path"/> and builds its sparse model.</summary>
    public static SparseModel Load(string path, SparseModelOptions? options = null) => new(OnnxFile.Read(path), options);

    /// <summary>The settings.</summary>
    public SparseModelOptions Options { get; }

    /// <summary>The layers that have a sparse kernel, in graph order.</summary>
    public IReadOnlyList<SparseLayer> Layers { get; }

    /// <summary>The op registry with the sparse layers in place (e.g. for <see cref="RuntimeCheckOptions.Registry"/>).</summary>
    public OpRegistry Registry { get; }

    /// <summary>The executor running the graph (in eval mode).</summary>
    public GraphModule Module => _module;

    /// <summary>
    /// The whole graph compiled for the CPU, when every node computed from the inputs has a supported op
    /// (<see cref="CompiledPlan.SupportedOps"/>) and <see cref="SparseModelOptions.Compile"/> is on; null otherwise
    /// (<see cref="PlanRefusal"/> says why).
    /// </summary>
    public CompiledPlan? Plan { get; }

    /// <summary>Whether runs go through the compiled plan, why not, and its steps for the last input shapes run.</summary>
    public PlanSummary PlanSummary => new(Plan != null && Plan.Refusal is null, Plan?.Refusal ?? PlanRefusal, Plan?.Steps ?? Array.Empty<PlanStepInfo>());

    /// <summary>Why the model has no <see cref="Plan"/>: the first node (name and op) the plan cannot run, or the option.</summary>
    public string? PlanRefusal { get; }

    /// <summary>
    /// Runs the model without gradients on one tensor per graph input and returns its outputs: through the
    /// <see cref="Plan"/> where it takes the inputs (float32 on the CPU, shapes it can compile), in the executor otherwise.
    /// </summary>
    public Tensor[] Run(IReadOnlyList<Tensor> inputs)
    {
        if (Plan != null && Plan.TryRun(inputs, out var outputs)) return outputs;
        using (no_grad()) return _module.Run(inputs);
    }

    /// <summary>Bytes of the weights that have a sparse layer, stored dense (float32) and in their sparse format.</summary>
    public (long Dense, long Sparse) WeightBytes => (Layers.Sum(l => l.Matrix.DenseBytes), Layers.Sum(l => l.Matrix.StorageBytes));

    /// <inheritdoc />
    public void Dispose() => _module.Dispose();
}
