using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Graph;
using PruneSharp.Onnx;

namespace PruneSharp.Cli.Commands;

/// <summary><c>prunesharp inspect</c>: opset, inputs and outputs, and the weights of every layer with their sparsity.</summary>
static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model file." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON." };
        var command = new Command("inspect",
            "Show a model's opset, inputs and outputs, and each node that has weights: its tensors and shapes, parameter count and sparsity (fraction of zeros).\n" +
            "Example: prunesharp inspect resnet18.onnx")
        {
            model, json,
        };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!.FullName;
            var graph = OnnxFile.Read(path);
            var layers = ParameterSummary.ByLayer(graph);
            if (parse.GetValue(json)) PrintJson(path, graph, layers);
            else Print(path, graph, layers);
        });
        return command;
    }

    static string Describe(ValueInfo v) =>
        $"{v.Name}  {v.ElementType}  {(v.Shape == null ? "(rank unknown)" : "[" + string.Join(",", v.Shape) + "]")}";

    static string Percent(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture) + "%";

    static void Print(string path, PruneSharp.Graph.Graph graph, IReadOnlyList<LayerParameters> layers)
    {
        Console.WriteLine($"model    {path}");
        Console.WriteLine($"opset    {graph.Opset}");
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
    }

    static void PrintJson(string path, PruneSharp.Graph.Graph graph, IReadOnlyList<LayerParameters> layers)
    {
        static object Value(ValueInfo v) => new { name = v.Name, type = v.ElementType.ToString(), shape = v.Shape?.Select(d => d.Size?.ToString(CultureInfo.InvariantCulture) ?? d.Symbol ?? "?") };
        long total = layers.Sum(l => l.Count), zeros = layers.Sum(l => l.Zeros);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            model = path,
            opset = graph.Opset,
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
        }, Table.Json));
    }
}
