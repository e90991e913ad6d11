using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>DepthToSpace</c> (moves channel blocks into blocksize × blocksize spatial tiles; mode DCR, the default, or CRD)
/// and its inverse <c>SpaceToDepth</c>, on NCHW tensors.
/// </summary>
public sealed class DepthToSpace : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "DepthToSpace", "SpaceToDepth" };

    /// <inheritdoc />
    public override int MinOpset => 1;

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        long block = node.GetInt("blocksize", 0);
        if (block < 1) throw OpArgs.Error(node, "the attribute 'blocksize' must be a positive integer");
        bool toSpace = node.OpType == "DepthToSpace";
        string mode = node.GetString("mode", "DCR");
        if (mode is not ("DCR" or "CRD")) throw OpArgs.Error(node, $"mode '{mode}' is not DCR or CRD");
        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            if (x.dim() != 4) throw OpArgs.Error(node, $"the input must have rank 4, it has rank {x.dim()}");
            long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
            if (toSpace)
            {
                if (c % (block * block) != 0) throw OpArgs.Error(node, $"{c} channels are not divisible by blocksize² = {block * block}");
                long depth = c / (block * block);
                Tensor tiles = mode == "DCR"
                    ? x.reshape(n, block, block, depth, h, w).permute(0, 3, 4, 1, 5, 2)
                    : x.reshape(n, depth, block, block, h, w).permute(0, 1, 4, 2, 5, 3);
                return tiles.reshape(n, depth, h * block, w * block);
            }
            if (h % block != 0 || w % block != 0) throw OpArgs.Error(node, $"spatial size {h}x{w} is not divisible by blocksize {block}");
            return x.reshape(n, c, h / block, block, w / block, block).permute(0, 3, 5, 1, 2, 4)
                .reshape(n, c * block * block, h / block, w / block);
        });
    }
}
