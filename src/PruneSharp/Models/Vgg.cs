using PruneSharp.Graph;

namespace PruneSharp.Models;

/// <summary>
/// VGG-11/16/19 with BatchNorm in the CIFAR style (Simonyan &amp; Zisserman 2015; the CIFAR variant used by
/// Li et al. 2017 and network slimming): 3×3 convolutions with BN and ReLU, 2×2 max pooling (ceil mode, so 28×28
/// inputs work too), and one linear classifier.
/// </summary>
public static class Vgg
{
    static readonly Dictionary<int, int[]> Configurations = new()
    {
        [11] = new[] { 64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0 },
        [16] = new[] { 64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0 },
        [19] = new[] { 64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0 },
    };

    /// <summary>Builds VGG-<paramref name="depth"/> (11, 16 or 19) with BatchNorm.</summary>
    public static GraphModule Create(int depth, ClassifierOptions options)
    {
        if (!Configurations.TryGetValue(depth, out var configuration))
            throw new ArgumentException($"VGG-{depth} does not exist: depth must be 11, 16 or 19", nameof(depth));
        var b = new GraphBuilder($"vgg-{depth}", options.Seed);
        var h = b.Input("input", null, options.InputChannels, options.InputSize, options.InputSize);
        int index = 0, pool = 0;
        foreach (int width in configuration)
        {
            if (width == 0) { h = b.MaxPool2d(h, 2, ceilMode: true, name: $"features.pool{++pool}"); continue; }
            h = b.Conv2d(h, width, 3, $"features.{index}.conv", padding: 1);
            h = b.Relu(b.BatchNorm(h, $"features.{index}.bn"), $"features.{index}.relu");
            index++;
        }
        h = b.Flatten(h, "flatten");
        b.Output(b.Linear(h, options.Classes, "classifier"), "logits");
        return b.Build();
    }
}
