using PruneSharp.Graph;
using PruneSharp.Models;
using PruneSharp.Onnx;
using PruneSharp.Tests.Onnx;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Graph;

public class GraphValidationTests
{
    static string Refusal(PruneSharp.Graph.Graph graph) =>
        Assert.Throws<GraphException>(() => GraphValidation.Check(graph, "m.onnx")).Message;

    [Fact]
    public void Every_zoo_model_passes()
    {
        foreach (string name in ModelZoo.ClassifierNames)
        {
            using var model = ModelZoo.CreateClassifier(name, new ClassifierOptions(3, 32, 10));
            GraphValidation.Check(model.ToGraph(), name);
        }
        using var gpt = TinyGpt.Create(new TinyGptOptions(ContextLength: 16, Layers: 1, Heads: 2, Width: 16));
        GraphValidation.Check(gpt.ToGraph(), "tiny-gpt");
    }

    [Fact]
    public void A_graph_without_outputs_is_refused()
    {
        var graph = TestGraphs.SmallCnn();
        graph.Outputs.Clear();
        Assert.Equal("m.onnx: the graph has no outputs", Refusal(graph));
    }

    [Fact]
    public void An_output_nothing_produces_is_refused()
    {
        var graph = TestGraphs.SmallCnn();
        graph.Outputs.Add(new ValueInfo("ghost", DataType.Float, null));
        Assert.Contains("graph output 'ghost' is not produced by any node", Refusal(graph));
    }

    [Theory]
    [InlineData("conv", "dilatiojs")]
    [InlineData("bn", "epsilom")]
    [InlineData("fc", "transb")]
    public void An_attribute_the_op_does_not_have_is_refused_by_name(string node, string attribute)
    {
        var graph = TestGraphs.SmallCnn();
        graph.Nodes.Single(n => n.Name == node).Attributes[attribute] = AttributeValue.FromInt(1);
        Assert.Contains($"node '{node}' ", Refusal(graph));
        Assert.Contains($"has attribute '{attribute}'", Refusal(graph));
    }

    [Fact]
    public void Attributes_the_op_reads_or_accepts_pass_and_other_domains_are_not_judged()
    {
        var graph = TestGraphs.SmallCnn();
        var conv = graph.Nodes.Single(n => n.Name == "conv");
        conv.Attributes["dilations"] = AttributeValue.FromInts(new long[] { 1, 1 });
        conv.Attributes["strides"] = AttributeValue.FromInts(new long[] { 1, 1 });
        conv.Attributes["group"] = AttributeValue.FromInt(1);
        graph.Nodes.Add(new Node("custom", "Anything", new[] { "input" }, new[] { "extra" }, new Dictionary<string, AttributeValue> { ["whatever"] = AttributeValue.FromInt(1) }, "com.example"));
        GraphValidation.Check(graph, "m.onnx");
    }

    [Fact]
    public void An_initializer_declared_with_another_type_is_refused()
    {
        var graph = TestGraphs.SmallCnn();
        graph.ValueInfos["fc.bias"] = new ValueInfo("fc.bias", DataType.Int64, null);
        Assert.Contains("initializer 'fc.bias' holds Float but is declared Int64", Refusal(graph));
    }

    [Fact]
    public void The_writer_refuses_and_leaves_nothing()
    {
        using var folder = new TempFolder();
        var graph = TestGraphs.SmallCnn();
        graph.Outputs.Clear();
        Assert.Throws<GraphException>(() => OnnxFile.Write(graph, folder.File("m.onnx")));
        Assert.Empty(Directory.GetFiles(folder.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_cycle_is_named_by_its_nodes()
    {
        var graph = TestGraphs.SmallCnn();
        graph.Nodes.Single(n => n.Name == "relu").Inputs[0] = "r";
        Assert.Contains("node 'relu' (Relu) reads its own output 'r'", Refusal(graph));
        graph = TestGraphs.SmallCnn();
        graph.Nodes.Single(n => n.Name == "bn").Inputs[0] = "r";
        Assert.Contains("the graph has a cycle: 'bn' -> 'relu' -> 'bn'", Refusal(graph));
    }
}
