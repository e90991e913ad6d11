using PruneSharp.Graph;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Structured;

/// <summary>
/// Retraining-free recovery after channel removal (channel pruning with reconstruction, He et al. 2017): every layer
/// that lost input channels gets its weights refitted by least squares, so that on calibration inputs its outputs
/// from the surviving channels match the original layer's outputs. Layers are refitted in data-flow order, each on
/// the inputs produced by the already-refitted pruned model, so errors do not accumulate. Handles ungrouped Conv
/// with symmetric padding, Gemm and MatMul with a weight matrix; other readers, and layers with fewer calibration
/// rows (samples × positions) than weights per output, are left as they are.
/// </summary>
public static class Reconstruction
{
    /// <summary>Refits, in place, the readers of removed channels in <paramref name="pruned"/>.</summary>
    /// <param name="original">The model before pruning.</param>
    /// <param name="pruned">The shrunk model from <see cref="Surgery.Apply"/>.</param>
    /// <param name="dependencies">The analysis the pruning used.</param>
    /// <param name="removed">Removed channels per group.</param>
    /// <param name="calibration">Calibration inputs (one tensor per graph input).</param>
    /// <param name="ridge">Tikhonov term added to the normal equations, relative to their mean diagonal.</param>
    /// <param name="maxRows">Most sample rows (positions × images) used per layer.</param>
    /// <returns>The names of the refitted layers.</returns>
    public static IReadOnlyList<string> Refit(GraphModule original, GraphModule pruned, DependencyGraph dependencies,
        IReadOnlyDictionary<int, int[]> removed, IReadOnlyList<Tensor> calibration, double ridge = 1e-4, int maxRows = 20_000)
    {
        var readers = dependencies.Groups.Where(g => removed.ContainsKey(g.Id))
            .SelectMany(g => g.Members).Where(m => m.Role == WeightRole.Reads).Select(m => m.Node).ToHashSet();
        var weights = pruned.Weights();
        var nodes = pruned.Graph.TopologicalOrder().Where(n => readers.Contains(n.Name) && Supported(n, pruned, weights)).ToList();
        if (nodes.Count == 0) return Array.Empty<string>();

        bool wasTraining = pruned.training;
        original.eval();
        pruned.eval();
        var targets = new Dictionary<string, Tensor>();
        using (no_grad()) original.Run(calibration, targets, nodes.Select(n => n.Outputs[0]).ToList());

        var kept = Surgery.KeptPositions(dependencies, removed);
        var refitted = new List<string>();
        using var generator = new Generator(0);
        foreach (var node in nodes)
        {
            using var scope = NewDisposeScope();
            var inputs = new Dictionary<string, Tensor>();
            using (no_grad()) pruned.Run(calibration, inputs, new[] { node.Inputs[0] });
            var target = targets[node.Outputs[0]];
            // The layer may have lost output channels too: fit only the surviving ones.
            int outputAxis = OutputAxis(node);
            if (kept.TryGetValue((node.Inputs[1], outputAxis), out var survivors))
                target = target.index_select(node.OpType == "Conv" ? 1 : target.dim() - 1,
                    tensor(Enumerable.Range(0, survivors.Length).Where(p => survivors[p]).Select(p => (long)p).ToArray()));
            var (x, y) = Rows(node, inputs[node.Inputs[0]], target, weights);
            if (x.shape[0] > maxRows)
            {
                var pick = randperm(x.shape[0], generator: generator)[..maxRows];
                x = x[pick]; y = y[pick];
            }
            if (x.shape[0] < x.shape[1]) continue; // fewer samples than unknowns: the fit would be underdetermined
            var solution = Solve(x.to_type(ScalarType.Float64), y.to_type(ScalarType.Float64), ridge);
            Assign(node, solution, weights);
            refitted.Add(node.Name);
        }
        pruned.train(wasTraining);
        return refitted;
    }

    static bool Supported(Node node, GraphModule module, IReadOnlyDictionary<string, Tensor> weights)
    {
        if (!module.IsParameter(node.Inputs[1])) return false;
        return node.OpType switch
        {
            "Conv" => node.GetInt("group", 1) == 1 && node.GetString("auto_pad", "NOTSET") == "NOTSET" && SymmetricPads(node.GetInts("pads")),
            "Gemm" => node.GetInt("transA", 0) == 0 && node.GetFloat("alpha", 1f) == 1f,
            "MatMul" => weights[node.Inputs[1]].dim() == 2,
            _ => false,
        };
    }

    /// <summary>The weight axis that indexes the layer's outputs.</summary>
    static int OutputAxis(Node node) => node.OpType switch
    {
        "Conv" => 0,
        "Gemm" => node.GetInt("transB", 0) != 0 ? 0 : 1,
        _ => 1,
    };

    static bool SymmetricPads(IReadOnlyList<long>? pads) => pads is null || (pads.Count == 4 && pads[0] == pads[2] && pads[1] == pads[3]);

    /// <summary>Design rows X [rows, fan-in] and targets Y [rows, outputs] with the layer's bias removed from Y.</summary>
    static (Tensor X, Tensor Y) Rows(Node node, Tensor input, Tensor target, IReadOnlyDictionary<string, Tensor> weights)
    {
        var bias = node.InputOrNull(2) is { } b ? weights[b] : null;
        switch (node.OpType)
        {
            case "Conv":
            {
                var weight = weights[node.Inputs[1]];
                if (input.dim() != 4) throw new NotSupportedException("only 2-D convolutions are refitted");
                long[] kernel = weight.shape[2..];
                long[] stride = Conv.Spatial(node.GetInts("strides"), 2, 1), dilation = Conv.Spatial(node.GetInts("dilations"), 2, 1);
                long[] pads = node.GetInts("pads")?.ToArray() ?? new long[4];
                var patches = nn.functional.unfold(input, (kernel[0], kernel[1]), (dilation[0], dilation[1]), (pads[0], pads[1]), (stride[0], stride[1]));
                var x = patches.transpose(1, 2).reshape(-1, patches.shape[1]);
                var y = target.flatten(2).transpose(1, 2).reshape(-1, target.shape[1]);
                if (bias is not null) y = y - bias;
                return (x, y);
            }
            case "Gemm":
            {
                var x = input.reshape(-1, input.shape[^1]);
                var y = target.reshape(-1, target.shape[^1]);
                if (bias is not null) y = y - bias * node.GetFloat("beta", 1f);
                return (x, y);
            }
            default:
                return (input.reshape(-1, input.shape[^1]), target.reshape(-1, target.shape[^1]));
        }
    }

    /// <summary>argmin_W ‖X·W − Y‖² + λ‖W‖², W [fan-in, outputs], by the normal equations.</summary>
    static Tensor Solve(Tensor x, Tensor y, double ridge)
    {
        var gram = x.t().matmul(x);
        double lambda = ridge * gram.diagonal().mean().item<double>() + 1e-12;
        gram += eye(gram.shape[0], dtype: float64) * lambda;
        return linalg.solve(gram, x.t().matmul(y));
    }

    static void Assign(Node node, Tensor solution, IReadOnlyDictionary<string, Tensor> weights)
    {
        var weight = weights[node.Inputs[1]];
        Tensor value = node.OpType switch
        {
            "Conv" => solution.t().reshape(weight.shape),
            "Gemm" => node.GetInt("transB", 0) != 0 ? solution.t() : solution,
            _ => solution,
        };
        using var _ = no_grad();
        weight.copy_(value.to_type(weight.dtype));
    }
}
