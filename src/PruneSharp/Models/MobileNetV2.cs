using PruneSharp.Graph;

namespace PruneSharp.Models;

/// <summary>
/// MobileNetV2 (Sandler et al. 2018): inverted residual blocks (1×1 expansion, 3×3 depthwise, 1×1 linear
/// projection) with ReLU6. The CIFAR width variant keeps the ImageNet channel widths but uses stride 1 in the stem
/// and in the second stage, as is usual for 32×32 inputs (2,236,682 parameters for 10 classes and 3 input channels).
/// </summary>
public static class MobileNetV2
{
    // (expansion t, output channels c, repeats n, first stride s) from the paper's Table 2.
    static readonly (int T, long C, int N, long S)[] Stages =
        { (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1) };

    /// <summary>Builds MobileNetV2; <paramref name="cifar"/> selects the CIFAR strides (stem and stage 2 at stride 1).</summary>
    public static GraphModule Create(ClassifierOptions options, bool cifar = true)
    {
        var b = new GraphBuilder(cifar ? "mobilenet-v2-cifar" : "mobilenet-v2", options.Seed);
        var x = b.Input("input", null, options.InputChannels, options.InputSize, options.InputSize);
        var h = ConvBnRelu6(b, x, 32, 3, cifar ? 1 : 2, 1, "features.0");
        int index = 1;
        for (int s = 0; s < Stages.Length; s++)
        {
            var (t, c, n, stride) = Stages[s];
            if (cifar && s == 1) stride = 1;
            for (int i = 0; i < n; i++)
                h = InvertedResidual(b, h, c, i == 0 ? stride : 1, t, $"features.{index++}");
        }
        h = ConvBnRelu6(b, h, 1280, 1, 1, 1, $"features.{index}");
        h = b.Flatten(b.GlobalAvgPool(h, "avgpool"), "flatten");
        b.Output(b.Linear(h, options.Classes, "classifier"), "logits");
        return b.Build();
    }

    static GraphBuilder.Value InvertedResidual(GraphBuilder b, GraphBuilder.Value x, long outChannels, long stride, int expansion, string name)
    {
        long hidden = x.Size(1) * expansion;
        var h = x;
        if (expansion != 1) h = ConvBnRelu6(b, h, hidden, 1, 1, 1, $"{name}.expand");
        h = ConvBnRelu6(b, h, hidden, 3, stride, hidden, $"{name}.depthwise");
        h = b.BatchNorm(b.Conv2d(h, outChannels, 1, $"{name}.project.conv", bias: false), $"{name}.project.bn");
        return stride == 1 && x.Size(1) == outChannels ? b.Add(x, h, $"{name}.add") : h;
    }

    static GraphBuilder.Value ConvBnRelu6(GraphBuilder b, GraphBuilder.Value x, long outChannels, long kernel, long stride, long groups, string name) =>
        b.Relu6(b.BatchNorm(b.Conv2d(x, outChannels, kernel, $"{name}.conv", stride, (kernel - 1) / 2, groups, bias: false), $"{name}.bn"), $"{name}.relu6");
}
