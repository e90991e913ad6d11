using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;
using Xunit.Abstractions;

namespace PruneSharp.Tests.Onnx;

/// <summary>Real exported files: the node tests of ONNX's conformance suite, as Debian's libonnx-testdata ships them.</summary>
public class OnnxTestDataTests(ITestOutputHelper output)
{
    const string NodeTests = "/usr/share/libonnx-testdata/data/node";

    [RequiresPathFact(NodeTests, "libonnx-testdata")]
    public void Every_node_test_model_reads_or_is_refused_with_a_stated_reason()
    {
        var refused = new List<string>();
        int read = 0;
        foreach (string folder in Directory.GetDirectories(NodeTests).Order(StringComparer.Ordinal))
        {
            string path = Path.Combine(folder, "model.onnx");
            if (!File.Exists(path)) continue;
            try
            {
                var graph = OnnxFile.Read(path);
                Assert.NotEmpty(graph.Nodes);
                Assert.NotEmpty(graph.Outputs);
                read++;
            }
            catch (Exception e) when (e is OnnxFormatException or UnsupportedOpException) // an old opset's op without an upgrade is refused by name
            {
                Assert.Contains(path, e.Message);
                refused.Add(e.Message);
            }
        }
        foreach (string message in refused) output.WriteLine(message);
        output.WriteLine($"{read} read, {refused.Count} refused");
        Assert.True(read > 500, $"only {read} node-test models were read");
    }
}
