using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Onnx.Opsets;
using PruneSharp.Onnx.Proto;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Onnx;

/// <summary>
/// ONNX's own node tests as Debian's libonnx-testdata ships them: one folder per test with model.onnx and
/// test_data_set_N/{input,output}_K.pb. A test is supported when its default opset is in the reader's range (older than
/// 11 only where every op has an upgrade),
/// its inputs and outputs are tensors of a type TorchSharp holds, every node is in the default domain and every op
/// type is in <see cref="OpRegistry.Default"/>.
/// </summary>
static class NodeTestSuite
{
    public const string Root = "/usr/share/libonnx-testdata/data/node";

    /// <summary>ONNX's backend tests compare with rtol 1e-3; the absolute floor absorbs float32 rounding near zero.</summary>
    const double RelativeTolerance = 1e-3, AbsoluteTolerance = 1e-5;

    /// <param name="Name">The folder name, e.g. test_slice_neg_steps.</param>
    /// <param name="OpTypes">The distinct op types of the model's nodes.</param>
    /// <param name="Unsupported">Why the executor does not run the model, or null if it does.</param>
    public sealed record Case(string Name, IReadOnlyList<string> OpTypes, string? Unsupported);

    static readonly Lazy<IReadOnlyList<Case>> AllCases = new(() =>
        Directory.Exists(Root)
            ? Directory.GetDirectories(Root).Order(StringComparer.Ordinal).Select(Classify).ToList()
            : Array.Empty<Case>());

    /// <summary>Every node test, classified; empty when the package is absent.</summary>
    public static IReadOnlyList<Case> Cases => AllCases.Value;

    static Case Classify(string folder)
    {
        string name = Path.GetFileName(folder);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(folder, "model.onnx")));
        var nodes = model.Graph.Node;
        var opTypes = nodes.Select(n => n.OpType).Distinct().Order(StringComparer.Ordinal).ToList();
        long? opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => (long?)o.Version).FirstOrDefault();
        string? why = null;
        if (opset is not long version) why = "no default-domain opset";
        else if (version < OnnxReader.MinOpset) why = $"opset {version} is older than the reader's minimum {OnnxReader.MinOpset}";
        else if (version > OpRegistry.MaxOpset) why = $"opset {version} is newer than {OpRegistry.MaxOpset}";
        else if (model.Graph.Input.Concat(model.Graph.Output).Select(UnsupportedType).FirstOrDefault(t => t != null) is { } type) why = type;
        else
        {
            // Old opsets are upgraded on import: the executor then runs the upgraded nodes at the upgraded opset.
            var run = nodes.Select(n => new Node(n.Name, n.OpType, [], [], null, n.Domain)).ToList();
            int runOpset = (int)version;
            if (version < OpsetConversion.Target)
            {
                try
                {
                    var graph = OnnxFile.Read(Path.Combine(folder, "model.onnx"));
                    (run, runOpset) = (graph.Nodes, graph.Opset);
                }
                catch (UnsupportedOpException e)
                {
                    string op = nodes.Select(n => n.OpType).FirstOrDefault(t => e.Message.Contains($"op {t} ", StringComparison.Ordinal)) ?? "?";
                    why = $"op {op} has no upgrade to opset {OpsetConversion.Target} at opset {version}";
                    run = [];
                }
            }
            foreach (var n in run)
            {
                try
                {
                    OpRegistry.Default.Find(n, runOpset);
                }
                catch (UnsupportedOpException)
                {
                    why = n.Domain is "" or "ai.onnx" ? $"op {n.OpType} is not supported at opset {runOpset}" : $"domain {n.Domain}";
                    break;
                }
            }
        }
        return new Case(name, opTypes, why);
    }

    /// <summary>Why a graph input or output cannot be held in a tensor here (a sequence, an optional, a string or wide unsigned type), or null.</summary>
    static string? UnsupportedType(ValueInfoProto value)
    {
        if (value.Type?.TensorType is not { } tensorType) return "non-tensor inputs or outputs (sequence, optional or map)";
        try
        {
            ((DataType)tensorType.ElemType).ToScalarType();
            return null;
        }
        catch (NotSupportedException)
        {
            return $"element type {(Enum.IsDefined((DataType)tensorType.ElemType) ? ((DataType)tensorType.ElemType).ToString() : tensorType.ElemType.ToString())}";
        }
    }

    /// <summary>Runs one node test over all its data sets; null if every output matches, else what went wrong.</summary>
    public static string? Run(string name)
    {
        string folder = Path.Combine(Root, name);
        using var scope = NewDisposeScope();
        try
        {
            var graph = OnnxFile.Read(Path.Combine(folder, "model.onnx"));
            using var module = new GraphModule(graph);
            module.eval();
            foreach (string dataSet in Directory.GetDirectories(folder, "test_data_set_*").Order(StringComparer.Ordinal))
            {
                var inputs = Numbered(dataSet, "input").Select(TensorFile.Read).ToList();
                var expected = Numbered(dataSet, "output").Select(TensorFile.Read).ToList();
                Tensor[] outputs;
                using (no_grad()) outputs = module.Run(inputs);
                if (outputs.Length != expected.Count)
                    return $"{Path.GetFileName(dataSet)}: {outputs.Length} outputs, expected {expected.Count}";
                for (int k = 0; k < outputs.Length; k++)
                    if (Compare(expected[k], outputs[k]) is { } difference)
                        return $"{Path.GetFileName(dataSet)} output {k} ({graph.Outputs[k].Name}): {difference}";
            }
            return null;
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
        }
    }

    static IEnumerable<string> Numbered(string dataSet, string kind) =>
        Directory.GetFiles(dataSet, $"{kind}_*.pb")
            .OrderBy(f => int.Parse(Path.GetFileNameWithoutExtension(f)[(kind.Length + 1)..]));

    /// <summary>Null if <paramref name="actual"/> matches: same type and shape, floats within tolerance (NaN matches NaN), the rest exactly.</summary>
    public static string? Compare(Tensor expected, Tensor actual)
    {
        if (actual.dtype != expected.dtype) return $"type {actual.dtype}, expected {expected.dtype}";
        if (!actual.shape.SequenceEqual(expected.shape))
            return $"shape [{string.Join(",", actual.shape)}], expected [{string.Join(",", expected.shape)}]";
        if (!is_floating_point(expected))
            return actual.cpu().Equals(expected) ? null : $"values differ (first at flat index {FirstDifference(expected, actual)})";
        Tensor e = expected.to_type(ScalarType.Float64), a = actual.detach().cpu().to_type(ScalarType.Float64);
        Tensor close = (a - e).abs() <= AbsoluteTolerance + RelativeTolerance * e.abs();
        close = close | (a.isnan() & e.isnan()) | a.eq(e);
        if (close.all().item<bool>()) return null;
        long bad = (~close).flatten().nonzero()[0, 0].item<long>();
        return $"value {a.flatten()[bad].item<double>()} at flat index {bad}, expected {e.flatten()[bad].item<double>()} (rtol {RelativeTolerance}, atol {AbsoluteTolerance})";
    }

    static long FirstDifference(Tensor expected, Tensor actual) =>
        actual.cpu().ne(expected).flatten().nonzero()[0, 0].item<long>();
}
