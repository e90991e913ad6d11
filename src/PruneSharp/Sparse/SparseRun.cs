using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Onnx;
using static TorchSharp.torch;

namespace PruneSharp.Sparse;

/// <summary>Settings of <see cref="SparseRun.Run"/>.</summary>
public sealed record SparseRunOptions
{
    /// <summary>Settings of the sparse model.</summary>
    public SparseModelOptions Model { get; init; } = new();
    /// <summary>Input shapes and tensors (others synthesised from the graph).</summary>
    public InputSynthesisOptions Inputs { get; init; } = new();
    /// <summary>Timed runs after the first (which measures each layer's kernels).</summary>
    public int Runs { get; init; } = 10;
    /// <summary>Compare the outputs with ONNX Runtime's on the same inputs.</summary>
    public bool Compare { get; init; } = true;
    /// <summary>Seed of synthesised inputs.</summary>
    public long Seed { get; init; }
    /// <summary>An output element agrees with ONNX Runtime when |sparse − reference| ≤ Tolerance · (1 + |reference|).</summary>
    public double Tolerance { get; init; } = 1e-4;
}

/// <summary>One output of the sparse run.</summary>
/// <param name="Name">The graph output.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="MaxAbsDiff">Largest |sparse − ONNX Runtime|, when compared.</param>
/// <param name="MaxRelDiff">Largest |sparse − ONNX Runtime| / max(|ONNX Runtime|, 1e-6), when compared.</param>
/// <param name="Passed">Every element within <see cref="SparseRunOptions.Tolerance"/> of ONNX Runtime's (true when not compared).</param>
public sealed record SparseRunOutput(string Name, long[] Shape, double? MaxAbsDiff, double? MaxRelDiff, bool Passed);

/// <summary>What <see cref="SparseRun.Run"/> did.</summary>
/// <param name="Model">The model file.</param>
/// <param name="InputShapes">Input shapes by name.</param>
/// <param name="Layers">The layers with a sparse kernel and their decisions.</param>
/// <param name="Latency">Latency of the timed runs.</param>
/// <param name="Outputs">The outputs and their difference to ONNX Runtime.</param>
/// <param name="DenseWeightBytes">Bytes of the sparse layers' weights stored dense.</param>
/// <param name="SparseWeightBytes">Bytes of the same weights in their sparse formats.</param>
/// <param name="Plan">Whether the run went through the compiled plan, and its steps.</param>
public sealed record SparseRunReport(string Model, IReadOnlyDictionary<string, long[]> InputShapes, IReadOnlyList<SparseLayer> Layers,
    LatencyStats Latency, IReadOnlyList<SparseRunOutput> Outputs, long DenseWeightBytes, long SparseWeightBytes, PlanSummary Plan)
{
    /// <summary>True if every compared output agreed with ONNX Runtime.</summary>
    public bool Passed => Outputs.All(o => o.Passed);
}

/// <summary>
/// Executes a pruned ONNX model with the sparse runtime (<see cref="SparseModel"/>) on given or synthesised inputs,
/// times it, and compares its outputs with ONNX Runtime's.
/// </summary>
public static class SparseRun
{
    /// <summary>Runs the model at <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">Options are out of range or an input is wrong.</exception>
    /// <exception cref="GraphException">The model cannot be run.</exception>
    public static SparseRunReport Run(string path, SparseRunOptions options, CancellationToken cancellation = default)
    {
        if (options.Runs < 1) throw new ArgumentException($"runs must be at least 1, got {options.Runs}");
        if (!(options.Tolerance >= 0)) throw new ArgumentException($"tolerance must be non-negative, got {options.Tolerance}");
        var graph = OnnxFile.Read(path);
        var plans = InputSynthesis.Plan(graph, options.Inputs);
        using var generator = new Generator((ulong)options.Seed);
        using var scope = NewDisposeScope();
        var inputs = InputSynthesis.Generate(plans, generator);
        using var model = new SparseModel(graph, options.Model);
        var outputs = model.Run(inputs);
        var latency = AlternatingTimer.Measure(options.Runs, new Action[] { () => { using var s = NewDisposeScope(); model.Run(inputs); } }, cancellation)[0];
        IReadOnlyDictionary<string, Tensor>? reference = null;
        if (options.Compare)
        {
            using var runtime = new OnnxRuntimeRunner(path, options.Model.Threads);
            reference = runtime.Run(graph.Inputs.Select((input, k) => (input.Name, inputs[k])).ToDictionary(p => p.Name, p => p.Item2));
        }
        var results = graph.Outputs.Select((info, k) => Compare(info.Name, outputs[k], reference?.GetValueOrDefault(info.Name), options.Tolerance)).ToList();
        var (dense, sparse) = model.WeightBytes;
        return new SparseRunReport(path, plans.ToDictionary(p => p.Name, p => p.Shape), model.Layers, latency, results, dense, sparse, model.PlanSummary);
    }

    static SparseRunOutput Compare(string name, Tensor ours, Tensor? reference, double tolerance)
    {
        if (reference is null) return new SparseRunOutput(name, ours.shape, null, null, true);
        if (!ours.shape.SequenceEqual(reference.shape))
            throw new GraphException($"output '{name}': the sparse run gives shape [{string.Join(",", ours.shape)}], ONNX Runtime [{string.Join(",", reference.shape)}]");
        if (ours.numel() == 0 || !ours.is_floating_point())
        {
            bool equal = ours.equal(reference).item<bool>();
            return new SparseRunOutput(name, ours.shape, equal ? 0 : double.PositiveInfinity, null, equal);
        }
        using var a = ours.to(float64);
        using var b = reference.to(float64);
        using var diff = (a - b).abs();
        using var magnitude = b.abs();
        using var relative = diff / magnitude.clamp_min(1e-6);
        using var outside = diff > tolerance * (1 + magnitude);
        return new SparseRunOutput(name, ours.shape, diff.max().item<double>(), relative.max().item<double>(), !outside.any().item<bool>());
    }
}
