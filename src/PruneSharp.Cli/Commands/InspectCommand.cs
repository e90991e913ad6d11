using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Structured;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp inspect</c>: opset, inputs and outputs, and the weights of every layer with their sparsity; with
/// <c>--structure</c> also the channel groups, attention heads and residual blocks that structured pruning can remove.
/// </summary>
static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model file." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON." };
        var structure = new Option<bool>("--structure") { Description = "Also list the channel groups, attention heads and residual blocks that --structured channel|head|block can remove, and what is left out and why (runs the model once on an example synthesised from the graph; --shape and --input set it)." };
        var inputs = new InputFlags();
        var command = new Command("inspect",
            "Show a model's opset, inputs and outputs, and each node that has weights: its tensors and shapes, parameter count and sparsity (fraction of zeros).\n" +
            "Example: prunesharp inspect resnet18.onnx --structure\nExample: prunesharp inspect bert.onnx --structure --shape input_ids=1x32")
        {
            model, json, structure, inputs.Shape, inputs.Input,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!.FullName;
            var graph = OnnxFile.Read(path);
            var layers = ParameterSummary.ByLayer(graph);
            if (!parse.GetValue(structure) && inputs.AnyGiven(parse)) throw new ArgumentException("--shape and --input set the example that --structure runs; give --structure");
            var units = parse.GetValue(structure) ? Units(path, inputs.Options(parse)) : null;
            if (parse.GetValue(json)) PrintJson(path, graph, layers, units);
            else Print(path, graph, layers, units);
        });
        return command;
    }

    sealed record StructuralUnits(DependencyGraph Channels, IReadOnlyList<AttentionLayer> Attention, IReadOnlyList<ResidualBlock> Blocks, IReadOnlyDictionary<string, long> BlockParameters);

    static StructuralUnits Units(string path, InputSynthesisOptions inputs)
    {
        using var module = CliInputs.LoadModel(path, null, foldShapes: true);
        var sample = CliInputs.Examples(module, inputs);
        var blocks = ResidualBlocks.Find(module, sample);
        var weights = module.Weights();
        var channels = DependencyGraph.Build(module, sample);
        return new StructuralUnits(channels, AttentionHeads.Find(channels), blocks,
            blocks.ToDictionary(b => b.Add, b => b.Weights.Where(module.IsParameter).Sum(w => weights[w].numel())));
    }

    static void PrintUnits(StructuralUnits units)
    {
        Console.WriteLine();
        var groups = units.Channels.Groups.Where(g => !g.IsHeads).ToList();
        if (groups.Count == 0) Console.WriteLine("channel groups: none that can be removed");
        else Table.Write(Console.Out, new[] { "channel group (producers)", "channels", "weight slices", "exact" }, groups.Select(g => (IReadOnlyList<string>)new[]
        {
            Table.Names(g.Producers), g.Size.ToString(CultureInfo.InvariantCulture), g.Members.Count.ToString(CultureInfo.InvariantCulture), g.IsExact ? "yes" : "no",
        }));
        if (groups.FirstOrDefault(g => !g.IsExact) is { } inexact)
            Console.WriteLine($"not exact: {inexact.Approximations[0]}; prune --approximate removes such channels too");
        foreach (var blocked in units.Channels.Blocked)
            Console.WriteLine($"left out: {blocked.Size} channels of {Table.Names(blocked.Producers)}: {blocked.Reasons[0]}" +
                              (blocked.Reasons.Count > 1 ? $" (and {blocked.Reasons.Count - 1} more reasons: --json lists them)" : ""));
        Console.WriteLine();
        if (units.Attention.Count == 0) Console.WriteLine("attention heads: none that can be removed");
        else Table.Write(Console.Out, new[] { "attention (q, k, v projections)", "heads", "head size", "output projection" }, units.Attention.Select(a => (IReadOnlyList<string>)new[]
        {
            string.Join(", ", a.Projections), a.Heads.ToString(CultureInfo.InvariantCulture), a.HeadSize.ToString(CultureInfo.InvariantCulture), string.Join(", ", a.OutputProjections),
        }));
        Console.WriteLine();
        if (units.Blocks.Count == 0) Console.WriteLine("residual blocks: none with an identity skip");
        else Table.Write(Console.Out, new[] { "residual block (add)", "input", "nodes", "params" }, units.Blocks.Select(b => (IReadOnlyList<string>)new[]
        {
            b.Add, b.Input, b.Nodes.Count.ToString(CultureInfo.InvariantCulture), units.BlockParameters[b.Add].ToString("N0", CultureInfo.InvariantCulture),
        }));
    }

    static string Describe(ValueInfo v) =>
        $"{v.Name}  {v.ElementType}  {(v.Shape == null ? "(rank unknown)" : "[" + string.Join(",", v.Shape) + "]")}";

    static string Percent(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + "%";

    static void Print(string path, PruneSharp.Graph.Graph graph, IReadOnlyList<LayerParameters> layers, StructuralUnits? units)
    {
        Console.WriteLine($"model    {path}");
        Console.WriteLine($"opset    {(graph.SourceOpset is int old ? $"{old}, upgraded to {graph.Opset} on import" : graph.Opset)}");
        if (graph.Metadata.TryGetValue(OnnxFile.ProducerNameKey, out string? producer))
            Console.WriteLine($"producer {producer} {graph.Metadata.GetValueOrDefault(OnnxFile.ProducerVersionKey, "")}".TrimEnd());
        foreach (var input in graph.Inputs) Console.WriteLine($"input    {Describe(input)}");
        foreach (var output in graph.Outputs) Console.WriteLine($"output   {Describe(output)}");
        var ops = graph.Nodes.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal);
        Console.WriteLine($"nodes    {graph.Nodes.Count}: {string.Join(", ", ops.Select(g => $"{g.Key} {g.Count()}"))}");
        Console.WriteLine();
        if (layers.Count == 0)
        {
            Console.WriteLine("no weights: no node reads a floating-point initializer");
            return;
        }
        var rows = new List<IReadOnlyList<string>>();
        foreach (var layer in layers)
        {
            rows.Add(new[] { layer.Node, layer.OpType, "", layer.Count.ToString("N0", CultureInfo.InvariantCulture), Percent(layer.Sparsity) });
            foreach (var t in layer.Tensors)
                rows.Add(new[] { "  " + t.Name, "", Table.Shape(t.Shape), t.Count.ToString("N0", CultureInfo.InvariantCulture), Percent(t.Sparsity) });
        }
        Table.Write(Console.Out, new[] { "node / tensor", "op", "shape", "params", "sparsity" }, rows);
        long total = layers.Sum(l => l.Count), zeros = layers.Sum(l => l.Zeros);
        Console.WriteLine();
        Console.WriteLine($"total params {total.ToString("N0", CultureInfo.InvariantCulture)}, zeros {zeros.ToString("N0", CultureInfo.InvariantCulture)} (sparsity {Percent(total == 0 ? 0 : (double)zeros / total)})");
        if (units is not null) PrintUnits(units);
    }

    static void PrintJson(string path, PruneSharp.Graph.Graph graph, IReadOnlyList<LayerParameters> layers, StructuralUnits? units)
    {
        static object Value(ValueInfo v) => new { name = v.Name, type = v.ElementType.ToString(), shape = v.Shape?.Select(d => d.Size?.ToString(CultureInfo.InvariantCulture) ?? d.Symbol ?? "?") };
        long total = layers.Sum(l => l.Count), zeros = layers.Sum(l => l.Zeros);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            model = path,
            opset = graph.Opset,
            source_opset = graph.SourceOpset,
            metadata = graph.Metadata,
            inputs = graph.Inputs.Select(Value),
            outputs = graph.Outputs.Select(Value),
            node_count = graph.Nodes.Count,
            layers = layers.Select(l => new
            {
                node = l.Node, op = l.OpType, @params = l.Count, zeros = l.Zeros, sparsity = l.Sparsity,
                tensors = l.Tensors.Select(t => new { name = t.Name, shape = t.Shape, type = t.ElementType.ToString(), @params = t.Count, zeros = t.Zeros, sparsity = t.Sparsity }),
            }),
            total_params = total,
            total_zeros = zeros,
            sparsity = total == 0 ? 0 : (double)zeros / total,
            channel_groups = units?.Channels.Groups.Where(g => !g.IsHeads).Select(g => new { producers = g.Producers, channels = g.Size, weight_slices = g.Members.Count, exact = g.IsExact, approximations = g.Approximations }),
            left_out = units?.Channels.Blocked.Select(b => new { producers = b.Producers, channels = b.Size, reasons = b.Reasons }),
            attention = units?.Attention.Select(a => new { projections = a.Projections, heads = a.Heads, head_size = a.HeadSize, output_projections = a.OutputProjections }),
            residual_blocks = units?.Blocks.Select(b => new { add = b.Add, input = b.Input, nodes = b.Nodes, @params = units.BlockParameters[b.Add] }),
        }, Table.Json));
    }
}
