using PruneSharp.Graph;

namespace PruneSharp.Models;

/// <summary>
/// Conv-2, Conv-4 and Conv-6 of the Lottery Ticket paper (Frankle &amp; Carbin 2019): pairs of 3×3 convolutions
/// (64, 128, 256 filters) with ReLU, each pair followed by 2×2 max pooling, then fully connected 256 → 256 → classes.
/// </summary>
public static class ConvNet
{
    /// <summary>Builds Conv-<paramref name="depth"/> (2, 4 or 6 convolutional layers).</summary>
    public static GraphModule Create(int depth, ClassifierOptions options)
    {
        if (depth is not (2 or 4 or 6)) throw new ArgumentException($"Conv-{depth} does not exist: depth must be 2, 4 or 6", nameof(depth));
        var b = new GraphBuilder($"conv-{depth}", options.Seed);
        var h = b.Input("input", null, options.InputChannels, options.InputSize, options.InputSize);
        long[] widths = { 64, 128, 256 };
        int layer = 1;
        for (int pair = 0; pair < depth / 2; pair++)
        {
            for (int k = 0; k < 2; k++, layer++)
                h = b.Relu(b.Conv2d(h, widths[pair], 3, $"conv{layer}", padding: 1), $"relu{layer}");
            h = b.MaxPool2d(h, 2, name: $"pool{pair + 1}");
        }
        h = b.Flatten(h, "flatten");
        h = b.Relu(b.Linear(h, 256, "fc1"), "fc_relu1");
        h = b.Relu(b.Linear(h, 256, "fc2"), "fc_relu2");
        b.Output(b.Linear(h, options.Classes, "fc3"), "logits");
        return b.Build();
    }
}
