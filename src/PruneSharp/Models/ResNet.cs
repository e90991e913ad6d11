using PruneSharp.Graph;

namespace PruneSharp.Models;

/// <summary>
/// Residual networks (He et al. 2016): the CIFAR family ResNet-20/32/56 (three stages of 16, 32, 64 channels with
/// n = (depth − 2)/6 basic blocks each) and ImageNet-style ResNet-18 (torchvision's layout: 7×7 stem, max pool,
/// four stages of two basic blocks). Where a block changes width or stride, the shortcut is a 1×1 convolution with
/// BatchNorm (option B), which keeps every channel coupling visible to structured pruning.
/// </summary>
public static class ResNet
{
    /// <summary>ResNet-20, -32, -56, ... for CIFAR-sized inputs (depth = 6n + 2).</summary>
    public static GraphModule Cifar(int depth, ClassifierOptions options)
    {
        if (depth < 8 || (depth - 2) % 6 != 0) throw new ArgumentException($"CIFAR ResNet depth must be 6n+2 (20, 32, 56, ...), got {depth}", nameof(depth));
        int blocks = (depth - 2) / 6;
        var b = new GraphBuilder($"resnet-{depth}", options.Seed);
        var x = b.Input("input", null, options.InputChannels, options.InputSize, options.InputSize);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 16, 3, "conv1", padding: 1, bias: false), "bn1"), "relu1");
        long[] widths = { 16, 32, 64 };
        for (int stage = 0; stage < 3; stage++)
            for (int i = 0; i < blocks; i++)
                h = BasicBlock(b, h, widths[stage], stage > 0 && i == 0 ? 2 : 1, $"layer{stage + 1}.{i}");
        h = b.Flatten(b.GlobalAvgPool(h, "avgpool"), "flatten");
        b.Output(b.Linear(h, options.Classes, "fc"), "logits");
        return b.Build();
    }

    /// <summary>ResNet-18 in torchvision's layout (11,689,512 parameters for 3×224×224 inputs and 1000 classes).</summary>
    public static GraphModule ResNet18(ClassifierOptions options)
    {
        var b = new GraphBuilder("resnet-18", options.Seed);
        var x = b.Input("input", null, options.InputChannels, options.InputSize, options.InputSize);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 64, 7, "conv1", stride: 2, padding: 3, bias: false), "bn1"), "relu");
        h = b.MaxPool2d(h, 3, 2, 1, name: "maxpool");
        long[] widths = { 64, 128, 256, 512 };
        for (int stage = 0; stage < 4; stage++)
            for (int i = 0; i < 2; i++)
                h = BasicBlock(b, h, widths[stage], stage > 0 && i == 0 ? 2 : 1, $"layer{stage + 1}.{i}");
        h = b.Flatten(b.GlobalAvgPool(h, "avgpool"), "flatten");
        b.Output(b.Linear(h, options.Classes, "fc"), "logits");
        return b.Build();
    }

    /// <summary>Two 3×3 convolutions with BatchNorm and a residual connection (projection when the shape changes).</summary>
    static GraphBuilder.Value BasicBlock(GraphBuilder b, GraphBuilder.Value x, long width, long stride, string name)
    {
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, width, 3, $"{name}.conv1", stride: stride, padding: 1, bias: false), $"{name}.bn1"), $"{name}.relu1");
        h = b.BatchNorm(b.Conv2d(h, width, 3, $"{name}.conv2", padding: 1, bias: false), $"{name}.bn2");
        var shortcut = x;
        if (stride != 1 || x.Size(1) != width)
            shortcut = b.BatchNorm(b.Conv2d(x, width, 1, $"{name}.downsample.0", stride: stride, bias: false), $"{name}.downsample.1");
        return b.Relu(b.Add(h, shortcut, $"{name}.add"), $"{name}.relu2");
    }
}
