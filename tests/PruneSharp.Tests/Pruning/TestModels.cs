using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning;

/// <summary>Small hand-written TorchSharp models for the pruning tests.</summary>
static class TestModels
{
    /// <summary>fc1 (12→16) → ReLU → fc2 (16→8) → ReLU → fc3 (8→4).</summary>
    public static Sequential Mlp(long seed = 1)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("fc1", nn.Linear(12, 16)), ("relu1", nn.ReLU()),
            ("fc2", nn.Linear(16, 8)), ("relu2", nn.ReLU()),
            ("fc3", nn.Linear(8, 4)));
    }

    /// <summary>conv1 (3→8, 3x3) → BN → ReLU → conv2 (8→8, 3x3) → ReLU → avg pool → flatten → fc (8→5).</summary>
    public static Sequential Cnn(long seed = 2)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("conv1", nn.Conv2d(3, 8, 3, padding: 1)), ("bn1", nn.BatchNorm2d(8)), ("relu1", nn.ReLU()),
            ("conv2", nn.Conv2d(8, 8, 3, padding: 1)), ("relu2", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()),
            ("fc", nn.Linear(8, 5)));
    }

    /// <summary>The number of non-zero entries of a tensor.</summary>
    public static long NonZeros(Tensor t) => t.count_nonzero().item<long>();

    /// <summary>True if both tensors have the same shape and values.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>Float values of a tensor, row-major.</summary>
    public static float[] Values(Tensor t) => t.detach().to(ScalarType.Float32).contiguous().data<float>().ToArray();
}
