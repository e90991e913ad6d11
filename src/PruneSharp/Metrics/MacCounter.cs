using PruneSharp.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Metrics;

/// <summary>
/// Counts the MACs of one forward pass from the shapes actually seen. Per op (N = batch, W = weight):
/// Conv (any groups, dilations, strides): N·Π(output spatial)·|W|; ConvTranspose: N·Π(input spatial)·|W|;
/// Gemm and MatMul: (elements of the output)·K with K the reduced dimension; Linear: (elements of the output)·in.
/// Effective MACs scale each by its weight's non-zero fraction when the weight is a parameter.
/// </summary>
public static class MacCounter
{
    /// <summary>Op types of a graph that are counted.</summary>
    public static IReadOnlyList<string> CountedOps { get; } = new[] { "Conv", "ConvTranspose", "Gemm", "MatMul" };

    /// <summary>Runs <paramref name="module"/> once on <paramref name="inputs"/> (in eval mode, without gradients) and counts its MACs.</summary>
    public static MacReport Measure(GraphModule module, IReadOnlyList<Tensor> inputs)
    {
        var nodes = module.Graph.Nodes.Where(n => n.Domain.Length == 0 && CountedOps.Contains(n.OpType)).ToList();
        var capture = nodes.SelectMany(n => n.Inputs.Take(2).Append(n.Outputs[0])).Where(n => n.Length > 0).Distinct().ToList();
        var values = new Dictionary<string, Tensor>();
        using var scope = NewDisposeScope();
        WithEval(module, () => module.Run(inputs, values, capture));
        var layers = new List<LayerMacs>();
        foreach (var node in nodes)
        {
            Tensor a = values[node.Inputs[0]], b = values[node.Inputs[1]], y = values[node.Outputs[0]];
            long dense = node.OpType switch
            {
                "Conv" => y.numel() / y.shape[1] * b.numel(),
                "ConvTranspose" => a.numel() / a.shape[1] * b.numel(),
                "Gemm" => y.numel() * (node.GetInt("transA", 0) != 0 ? a.shape[0] : a.shape[^1]),
                _ => y.numel() * a.shape[^1],
            };
            string? weight = node.Inputs.Take(2).Reverse().FirstOrDefault(module.IsParameter);
            layers.Add(Layer(node.Name, node.OpType, weight, dense, weight == null ? null : values[weight]));
        }
        return new MacReport(layers);
    }

    /// <summary>
    /// Runs <paramref name="module"/> once on <paramref name="input"/> (through <c>call</c>, in eval mode, without
    /// gradients) and counts the MACs of its Linear, Conv1d/2d/3d and ConvTranspose1d/2d/3d submodules with forward hooks.
    /// </summary>
    public static MacReport Measure(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        var layers = new List<LayerMacs>();
        var removers = new List<Action>();
        foreach (var (name, child) in module.named_modules())
        {
            string? op = child switch
            {
                Linear => "Linear",
                Conv1d or Conv2d or Conv3d => "Conv",
                ConvTranspose1d or ConvTranspose2d or ConvTranspose3d => "ConvTranspose",
                _ => null,
            };
            if (op == null || child is not nn.Module<Tensor, Tensor> layer) continue;
            var weight = layer.named_parameters(recurse: false).First(p => p.name == "weight").parameter;
            string label = name;
            var handle = layer.register_forward_hook((m, x, y) =>
            {
                long dense = op switch
                {
                    "ConvTranspose" => x.numel() / x.shape[1] * weight.numel(),
                    "Conv" => y.numel() / y.shape[1] * weight.numel(),
                    _ => y.numel() * weight.shape[1],
                };
                layers.Add(Layer(label, op, label + ".weight", dense, weight));
                return y;
            });
            removers.Add(handle.remove);
        }
        try
        {
            using var scope = NewDisposeScope();
            WithEval(module, () => module.call(input));
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
        return new MacReport(layers);
    }

    static LayerMacs Layer(string name, string op, string? weightName, long dense, Tensor? weight)
    {
        if (weight is null) return new LayerMacs(name, op, null, dense, 1, dense);
        long nonZeros = weight.count_nonzero().item<long>(), size = weight.numel();
        return new LayerMacs(name, op, weightName, dense, (double)nonZeros / size, dense / size * nonZeros);
    }

    static void WithEval(nn.Module module, Action run)
    {
        bool training = module.training;
        module.eval();
        try
        {
            using var _ = no_grad();
            run();
        }
        finally
        {
            if (training) module.train();
        }
    }
}
