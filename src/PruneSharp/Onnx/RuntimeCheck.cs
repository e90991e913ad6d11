using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Onnx;

/// <summary>Settings of <see cref="RuntimeCheck.Run"/>.</summary>
public sealed record RuntimeCheckOptions
{
    /// <summary>
    /// Shapes of inputs by name; other inputs use their declared shape, with symbolic dimensions set as
    /// <see cref="InputSynthesis"/> does (bound across inputs; batch 1, sequence 128 capped at the position table).
    /// </summary>
    public IReadOnlyDictionary<string, long[]> InputShapes { get; init; } = new Dictionary<string, long[]>();
    /// <summary>Tensors for inputs by name, fed in every sample instead of random values.</summary>
    public IReadOnlyDictionary<string, Tensor> Inputs { get; init; } = new Dictionary<string, Tensor>();
    /// <summary>How many random input sets to compare on.</summary>
    public int Samples { get; init; } = 3;
    /// <summary>An element passes when |ours − reference| ≤ Tolerance · (1 + |reference|).</summary>
    public double Tolerance { get; init; } = 1e-4;
    /// <summary>Seed of the random inputs.</summary>
    public long Seed { get; init; }
    /// <summary>Integer inputs that index no table are drawn uniformly from [IntLow, IntHigh) (those that do, from its rows).</summary>
    public long IntLow { get; init; }
    /// <summary>Integer inputs that index no table are drawn uniformly from [IntLow, IntHigh) (those that do, from its rows).</summary>
    public long IntHigh { get; init; } = 100;
    /// <summary>Threads ONNX Runtime may use for one operator.</summary>
    public int Threads { get; init; } = 1;
    /// <summary>The ops our executor runs the model with; null for <see cref="OpRegistry.Default"/>.</summary>
    public OpRegistry? Registry { get; init; }
}

/// <summary>How one output of ours compares with ONNX Runtime's, over all samples.</summary>
/// <param name="Name">The output's name.</param>
/// <param name="Shape">The output's shape (first sample).</param>
/// <param name="MaxAbsDiff">Largest |ours − reference|.</param>
/// <param name="MaxRelDiff">Largest |ours − reference| / max(|reference|, 1e-6).</param>
/// <param name="Passed">True if every element was within tolerance and shapes and types agreed.</param>
/// <param name="Problem">Why it failed beyond a numeric difference (shape or type mismatch, NaN), or null.</param>
public sealed record OutputComparison(string Name, long[] Shape, double MaxAbsDiff, double MaxRelDiff, bool Passed, string? Problem);

/// <summary>The result of comparing PruneSharp's executor with ONNX Runtime on one model.</summary>
/// <param name="Model">The model file.</param>
/// <param name="Opset">Its default-domain opset.</param>
/// <param name="InputShapes">The input shapes used.</param>
/// <param name="Samples">How many input sets were compared.</param>
/// <param name="Tolerance">The tolerance applied.</param>
/// <param name="Outputs">One comparison per graph output.</param>
public sealed record RuntimeCheckReport(string Model, int Opset, IReadOnlyDictionary<string, long[]> InputShapes, int Samples,
    double Tolerance, IReadOnlyList<OutputComparison> Outputs)
{
    /// <summary>True if every output passed.</summary>
    public bool Passed => Outputs.All(o => o.Passed);
    /// <summary>How each input's values were drawn (<see cref="InputValues.Reason"/>), by name.</summary>
    public IReadOnlyDictionary<string, string> InputValues { get; init; } = new Dictionary<string, string>();

    /// <summary>The file's own opset when it was older than <see cref="Opset"/> and upgraded on import (ONNX Runtime runs the file as it is); null otherwise.</summary>
    public int? SourceOpset { get; init; }
}

/// <summary>
/// Differential check of PruneSharp's executor (a <see cref="GraphModule"/> in eval mode) against ONNX Runtime on the
/// same random inputs.
/// </summary>
public static class RuntimeCheck
{
    /// <summary>Runs the check on the model file at <paramref name="path"/>.</summary>
    /// <exception cref="OnnxFormatException">The file is not a readable ONNX model.</exception>
    /// <exception cref="GraphException">Our executor or ONNX Runtime cannot run the model, or an input shape is wrong.</exception>
    public static RuntimeCheckReport Run(string path, RuntimeCheckOptions options)
    {
        if (options.Samples < 1) throw new ArgumentException($"samples must be at least 1, got {options.Samples}");
        if (options.IntHigh <= options.IntLow) throw new ArgumentException($"the integer input range [{options.IntLow}, {options.IntHigh}) is empty");
        if (!(options.Tolerance >= 0)) throw new ArgumentException($"tolerance must be non-negative, got {options.Tolerance}");
        var graph = OnnxFile.Read(path);
        var plans = InputSynthesis.Plan(graph, new InputSynthesisOptions
        {
            Shapes = options.InputShapes, Given = options.Inputs, IntLow = options.IntLow, IntHigh = options.IntHigh,
        });
        var shapes = plans.ToDictionary(p => p.Name, p => p.Shape);

        using var module = new GraphModule(graph, options.Registry);
        module.eval();
        using var runtime = new OnnxRuntimeRunner(path, options.Threads);
        var generator = new Generator((ulong)options.Seed);
        var stats = graph.Outputs.Select(o => new Accumulator(o.Name)).ToArray();
        for (int sample = 0; sample < options.Samples; sample++)
        {
            using var scope = NewDisposeScope();
            var inputs = InputSynthesis.Generate(plans, generator);
            Tensor[] ours;
            using (no_grad()) ours = module.Run(inputs);
            var reference = runtime.Run(graph.Inputs.Select((info, k) => (info.Name, inputs[k])).ToDictionary(p => p.Name, p => p.Item2));
            for (int k = 0; k < stats.Length; k++)
                stats[k].Add(ours[k], reference.TryGetValue(stats[k].Name, out var r) ? r : null, options.Tolerance);
        }
        return new RuntimeCheckReport(path, graph.Opset, shapes, options.Samples, options.Tolerance, stats.Select(s => s.Result()).ToList())
        {
            InputValues = plans.ToDictionary(p => p.Name, p => p.Values.Reason),
            SourceOpset = graph.SourceOpset,
        };
    }

    sealed class Accumulator(string name)
    {
        public string Name { get; } = name;
        long[] _shape = Array.Empty<long>();
        double _maxAbs, _maxRel;
        bool _passed = true;
        string? _problem;

        public void Add(Tensor ours, Tensor? reference, double tolerance)
        {
            if (_shape.Length == 0) _shape = ours.shape;
            if (_problem != null) return;
            if (reference is null) { Fail("ONNX Runtime did not produce it"); return; }
            if (!ours.shape.SequenceEqual(reference.shape))
            {
                Fail($"shape [{string.Join(",", ours.shape)}] differs from ONNX Runtime's [{string.Join(",", reference.shape)}]");
                return;
            }
            if (ours.dtype != reference.dtype)
            {
                Fail($"element type {ours.dtype} differs from ONNX Runtime's {reference.dtype}");
                return;
            }
            if (ours.numel() == 0) return;
            using var a = ours.detach().cpu().to(float64);
            using var b = reference.to(float64);
            using var nanA = a.isnan();
            using var nanB = b.isnan();
            if ((nanA ^ nanB).any().item<bool>()) { Fail("NaN where ONNX Runtime has a number, or the reverse"); return; }
            using var diff = (a - b).abs().nan_to_num(0.0);
            using var magnitude = b.abs().nan_to_num(0.0);
            _maxAbs = Math.Max(_maxAbs, diff.max().item<double>());
            _maxRel = Math.Max(_maxRel, (diff / magnitude.clamp_min(1e-6)).max().item<double>());
            if ((diff > tolerance * (1 + magnitude)).any().item<bool>()) _passed = false;
        }

        void Fail(string problem)
        {
            _problem = problem;
            _passed = false;
        }

        public OutputComparison Result() => new(Name, _shape, _maxAbs, _maxRel, _passed, _problem);
    }
}
