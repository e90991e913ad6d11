using PruneSharp.Graph;
using PruneSharp.Pruning.Structured;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Structured;

/// <summary>
/// The equivalence oracle for surgery (docs/architecture.md): zeroing, in the original model, the consumers' input
/// slices of the removed channels must give the same outputs as the shrunk model.
/// </summary>
static class StructuredEquivalence
{
    /// <summary>Prunes <paramref name="module"/> and asserts the shrunk model matches the zeroed original; returns the shrunk model.</summary>
    public static GraphModule PruneAndCheck(GraphModule module, Tensor input, IGroupImportance importance, ChannelPruningOptions options, double tolerance = 1e-5)
    {
        module.eval();
        var dependencies = DependencyGraph.Build(module, new[] { input });
        Assert.NotEmpty(dependencies.Groups);
        var removed = ChannelSelection.Select(dependencies, importance, options);
        Assert.NotEmpty(removed);
        var pruned = Surgery.Apply(dependencies, removed);
        pruned.eval();

        using var zeroed = new GraphModule(Surgery.ZeroedReaders(dependencies, removed));
        zeroed.eval();
        using var _ = no_grad();
        var expected = zeroed.call(input);
        var actual = pruned.call(input);
        Assert.Equal(expected.shape, actual.shape);
        double difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference <= tolerance, $"shrunk and zeroed models differ by {difference}");
        Assert.True(pruned.parameters().Sum(p => p.numel()) < module.parameters().Sum(p => p.numel()));
        return pruned;
    }
}
