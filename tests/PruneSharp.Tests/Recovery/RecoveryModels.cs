using PruneSharp.Graph;
using PruneSharp.Recovery;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Recovery;

/// <summary>Tiny graphs and unlabeled inputs for the distillation and fidelity tests.</summary>
static class RecoveryModels
{
    /// <summary>
    /// A small CNN over 1x8x8 images: conv1 (4 channels) → BN → ReLU → conv2 (6) → ReLU → global pool → "embedding"
    /// [N, 6] → fc → "logits" [N, 3]; outputs as <paramref name="outputs"/> lists ("logits", "embedding" or both).
    /// </summary>
    public static GraphModule Cnn(long seed, long conv1Channels = 4, params string[] outputs)
    {
        var b = new GraphBuilder("cnn", seed);
        var x = b.Input("image", null, 1, 8, 8);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, conv1Channels, 3, "conv1", padding: 1), "bn1"), "relu1");
        h = b.Relu(b.Conv2d(h, 6, 3, "conv2", padding: 1), "relu2");
        var embedding = b.Flatten(b.GlobalAvgPool(h, "pool"), "flat");
        var logits = b.Linear(embedding, 3, "fc");
        foreach (string output in outputs.Length == 0 ? ["logits"] : outputs)
            b.Output(output == "logits" ? logits : embedding, output);
        return b.Build();
    }

    /// <summary><paramref name="count"/> seeded standard-normal images 1x8x8, unlabeled.</summary>
    public sealed class RandomImages(int count, long seed) : IInputSource
    {
        readonly Tensor _images = randn(new long[] { count, 1, 8, 8 }, generator: new Generator((ulong)seed));

        public int Count => count;

        public IReadOnlyList<Tensor> Inputs(IReadOnlyList<int> indices) =>
            new[] { _images.index_select(0, tensor(indices.Select(i => (long)i).ToArray())) };
    }
}
