using PruneSharp.Graph;

namespace PruneSharp.Tests.Graph;

public class ParameterRolesTests
{
    [Fact]
    public void Roles_name_weights_with_their_reduction_axis_and_input_constants()
    {
        var roles = ParameterRoles.Of(UserModel.Build());
        ParameterRole Role(string name) => roles.ByName[name];
        Assert.Equal(ParameterKind.InputConstant, Role("mean").Kind);
        Assert.Equal(ParameterKind.InputConstant, Role("std").Kind);
        Assert.False(Role("mean").IsLayerParameter);
        Assert.Equal((0, 1), (Role("conv1.weight").OutputAxis!.Value, Role("conv1.weight").ReductionAxis!.Value));
        Assert.Equal((0, 1), (Role("fc1.weight").OutputAxis!.Value, Role("fc1.weight").ReductionAxis!.Value)); // Gemm transB=1: [out, in]
        Assert.Equal((1, 0), (Role("fc2.weight").OutputAxis!.Value, Role("fc2.weight").ReductionAxis!.Value)); // Gemm transB=0: [in, out]
        Assert.Equal((1, 0), (Role("fc3.weight").OutputAxis!.Value, Role("fc3.weight").ReductionAxis!.Value)); // MatMul: [in, out]
        Assert.Equal(ParameterKind.Bias, Role("fc3.bias").Kind);
        Assert.Equal(ParameterKind.Bias, Role("conv1.bias").Kind);
        Assert.Equal(new[] { "conv1.weight" }, roles.FirstLayers);
        Assert.Equal(new[] { "head.weight" }, roles.LastLayers);
    }

    [Fact]
    public void A_weight_behind_a_transpose_keeps_its_stored_axes()
    {
        var graph = new PruneSharp.Graph.Graph();
        graph.Inputs.Add(new ValueInfo("x", DataType.Float, new Dim[] { 2, 6 }));
        graph.Initializers["w"] = TorchSharp.torch.randn(4, 6); // stored [out, in], transposed at run time
        graph.Nodes.Add(new Node("t", "Transpose", new[] { "w" }, new[] { "wt" }, new Dictionary<string, AttributeValue> { ["perm"] = AttributeValue.FromInts(new long[] { 1, 0 }) }));
        graph.Nodes.Add(new Node("mm", "MatMul", new[] { "x", "wt" }, new[] { "y" }));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float, new Dim[] { 2, 4 }));
        var role = ParameterRoles.Of(graph).ByName["w"];
        Assert.Equal(ParameterKind.Weight, role.Kind);
        Assert.Equal((0, 1), (role.OutputAxis!.Value, role.ReductionAxis!.Value));
    }

    [Fact]
    public void Embedding_tables_scalars_and_layer_norms_are_told_apart()
    {
        var b = new GraphBuilder("lm", 3);
        var ids = b.Int64Input("ids", null, 5);
        var h = b.LayerNorm(b.Embedding(ids, 10, 8, "wte"), "ln");
        var logits = b.Linear(b.Scale(h, 0.5f, "half"), 10, "lm_head");
        b.Output(logits, "logits");
        b.Graph.Initializers["scale"] = TorchSharp.torch.tensor(2f);
        b.Graph.Nodes.Add(new Node("times", "Mul", new[] { "logits", "scale" }, new[] { "scaled" }));
        var roles = ParameterRoles.Of(b.Graph);
        Assert.Equal(ParameterKind.Embedding, roles.ByName["wte.weight"].Kind);
        Assert.Equal(ParameterKind.Normalization, roles.ByName["ln.weight"].Kind);
        Assert.Equal(ParameterKind.Constant, roles.ByName["scale"].Kind);
        Assert.Equal(new[] { "wte.weight" }, roles.FirstLayers);
        Assert.Equal(new[] { "lm_head.weight" }, roles.LastLayers);
    }

    [Fact]
    public void A_class_token_expanded_to_the_batch_is_a_learned_embedding()
    {
        var graph = new PruneSharp.Graph.Graph();
        graph.Inputs.Add(new ValueInfo("x", DataType.Float, new Dim[] { Dim.Named("batch"), 4, 6 }));
        graph.Initializers["cls_token"] = TorchSharp.torch.zeros(1, 1, 6);
        graph.Nodes.Add(new Node("shape", "Shape", new[] { "x" }, new[] { "s" }, new Dictionary<string, AttributeValue> { ["end"] = AttributeValue.FromInt(1) }));
        graph.Nodes.Add(new Node("target", "Concat", new[] { "s", "ones" }, new[] { "t" }, new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(0) }));
        graph.Initializers["ones"] = TorchSharp.torch.tensor(new long[] { 1, 1 });
        graph.Nodes.Add(new Node("expand", "Expand", new[] { "cls_token", "t" }, new[] { "cls" }));
        graph.Nodes.Add(new Node("cat", "Concat", new[] { "cls", "x" }, new[] { "y" }, new Dictionary<string, AttributeValue> { ["axis"] = AttributeValue.FromInt(1) }));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float, null));
        var role = ParameterRoles.Of(graph).ByName["cls_token"];
        Assert.Equal(ParameterKind.Embedding, role.Kind);
        Assert.True(role.IsLayerParameter);
    }
}
