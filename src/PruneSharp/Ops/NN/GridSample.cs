using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>GridSample</c> (opset 16) over 2-D inputs: samples X (N, C, H, W) at the normalised (x, y) locations of
/// Grid (N, H_out, W_out, 2). Modes bilinear/linear, nearest and bicubic/cubic (opset 20 names); padding zeros,
/// border or reflection; align_corners says whether −1 and 1 are the centres or the outer edges of the corner pixels.
/// Bicubic (Keys' kernel, a = −0.75, over the 4×4 nearest pixels, each tap padded by the padding mode) is computed
/// here with gathers, since TorchSharp's grid_sample offers only nearest and bilinear.
/// </summary>
public sealed class GridSample : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "GridSample" };

    /// <inheritdoc />
    public override int MinOpset => 16;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(1) != null) flow.Block("GridSample's grid carries channels");
        else if (flow.Input(0) is { Axis: 1 }) ChannelRules.PassThrough(flow);
        else if (flow.Input(0) != null) flow.Block("GridSample samples across the channel axis");
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        GridSampleMode? mode = node.GetString("mode", "bilinear") switch
        {
            "bilinear" or "linear" => GridSampleMode.Bilinear,
            "nearest" => GridSampleMode.Nearest,
            "bicubic" or "cubic" => null,
            var other => throw new GraphException($"node '{node.Name}' (GridSample): mode '{other}' is not one of bilinear, nearest, bicubic (linear, cubic from opset 20)"),
        };
        var padding = node.GetString("padding_mode", "zeros") switch
        {
            "zeros" => GridSamplePaddingMode.Zeros,
            "border" => GridSamplePaddingMode.Border,
            "reflection" => GridSamplePaddingMode.Reflection,
            var other => throw new GraphException($"node '{node.Name}' (GridSample): padding_mode '{other}' is not one of zeros, border, reflection"),
        };
        bool alignCorners = node.GetInt("align_corners", 0) != 0;
        return Single(inputs =>
        {
            Tensor x = inputs[0]!, grid = inputs[1]!;
            if (x.dim() != 4 || grid.dim() != 4 || grid.shape[3] != 2 || grid.shape[0] != x.shape[0])
                throw new GraphException($"node '{node.Name}' (GridSample): input [{string.Join(",", x.shape)}] and grid [{string.Join(",", grid.shape)}] must be (N, C, H, W) and (N, H_out, W_out, 2)");
            return mode is { } m ? nn.functional.grid_sample(x, grid, m, padding, alignCorners) : Bicubic(x, grid, padding, alignCorners);
        });
    }

    static Tensor Bicubic(Tensor x, Tensor grid, GridSamplePaddingMode padding, bool alignCorners)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        long[] outputShape = { n, c, grid.shape[1], grid.shape[2] };
        Tensor ix = Unnormalize(grid.select(3, 0).reshape(n, -1), w, alignCorners);
        Tensor iy = Unnormalize(grid.select(3, 1).reshape(n, -1), h, alignCorners);
        Tensor x0 = ix.floor(), y0 = iy.floor();
        Tensor[] wx = Weights(ix - x0), wy = Weights(iy - y0);
        Tensor planes = x.reshape(n, c, h * w);
        Tensor result = zeros(outputShape, x.dtype, x.device).reshape(n, c, -1);
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 4; i++)
            {
                var (px, validX) = Tap(x0 + (i - 1), w, padding, alignCorners);
                var (py, validY) = Tap(y0 + (j - 1), h, padding, alignCorners);
                Tensor index = (py * w + px).unsqueeze(1).expand(n, c, -1);
                Tensor values = planes.gather(2, index) * (validX & validY).unsqueeze(1).to_type(x.dtype);
                result = result + values * (wx[i] * wy[j]).unsqueeze(1);
            }
        return result.reshape(outputShape);
    }

    /// <summary>From [−1, 1] to pixel coordinates.</summary>
    static Tensor Unnormalize(Tensor g, long size, bool alignCorners) =>
        alignCorners ? (g + 1) / 2 * (size - 1) : ((g + 1) * size - 1) / 2;

    /// <summary>Keys' cubic weights (a = −0.75) of the taps at −1, 0, 1, 2 from the floor, for fraction t.</summary>
    static Tensor[] Weights(Tensor t)
    {
        const double a = -0.75;
        Tensor Near(Tensor d) => ((a + 2) * d - (a + 3)) * d * d + 1;
        Tensor Far(Tensor d) => ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
        return new[] { Far(t + 1), Near(t), Near(1 - t), Far(2 - t) };
    }

    /// <summary>A tap's index after the padding mode, and whether it reads the input (zeros padding reads nothing outside).</summary>
    static (Tensor Index, Tensor Valid) Tap(Tensor position, long size, GridSamplePaddingMode padding, bool alignCorners)
    {
        Tensor p = padding switch
        {
            GridSamplePaddingMode.Border => position.clamp(0, size - 1),
            GridSamplePaddingMode.Reflection => Reflect(position, alignCorners ? 0 : -0.5, alignCorners ? size - 1 : size - 0.5).clamp(0, size - 1),
            _ => position,
        };
        Tensor valid = p.ge(0) & p.le(size - 1);
        return (p.clamp(0, size - 1).to_type(ScalarType.Int64), valid);
    }

    /// <summary>Mirrors coordinates into [low, high] as often as needed.</summary>
    static Tensor Reflect(Tensor x, double low, double high)
    {
        double span = high - low;
        if (span <= 0) return zeros_like(x);
        Tensor distance = (x - low).abs();
        Tensor flips = (distance / span).floor();
        Tensor extra = distance - flips * span;
        return where(flips.remainder(2).eq(0), extra + low, span - extra + low);
    }
}
