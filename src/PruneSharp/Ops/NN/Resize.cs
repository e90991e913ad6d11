using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Resize</c> (opset 11 and later) of any number of axes, given by <c>scales</c> or <c>sizes</c> (with
/// opset 18's <c>axes</c> and <c>keep_aspect_ratio_policy</c>). Modes nearest (every nearest_mode), linear and
/// cubic (cubic_coeff_a, exclude_outside); coordinate transformations half_pixel, half_pixel_symmetric,
/// pytorch_half_pixel, align_corners, asymmetric, tf_crop_and_resize (with roi and extrapolation_value) and,
/// before opset 13, tf_half_pixel_for_nn.
/// Each resized axis is one step: nearest gathers, linear and cubic multiply by an interpolation matrix, so the
/// result is separable exactly as ONNX defines it and stays differentiable. With <c>antialias</c> (opset 18) the
/// linear and cubic filters are stretched by 1/scale when downscaling.
/// </summary>
public sealed class Resize : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Resize" };

    /// <inheritdoc />
    public override int MinOpset => 11;

    /// <inheritdoc />
    /// <remarks>Channels pass through unless the channel axis itself is resized.</remarks>
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThroughIfSizeKept(flow);

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        string mode = node.GetString("mode", "nearest");
        string transform = node.GetString("coordinate_transformation_mode", "half_pixel");
        string nearestMode = node.GetString("nearest_mode", "round_prefer_floor");
        string policy = node.GetString("keep_aspect_ratio_policy", "stretch");
        double a = node.GetFloat("cubic_coeff_a", -0.75f);
        bool excludeOutside = node.GetInt("exclude_outside", 0) != 0;
        double extrapolation = node.GetFloat("extrapolation_value", 0f);
        long[]? axesAttribute = node.GetInts("axes")?.ToArray();
        string Fail(string what) => throw new GraphException($"node '{node.Name}' (Resize): {what} is not supported");
        if (mode is not ("nearest" or "linear" or "cubic")) Fail($"mode '{mode}'");
        if (transform is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_crop_and_resize" or "half_pixel_symmetric")
            && !(transform == "tf_half_pixel_for_nn" && context.Opset < 13)
            || (transform == "half_pixel_symmetric" && context.Opset < 19))
            Fail($"coordinate_transformation_mode '{transform}' at opset {context.Opset}");
        if (nearestMode is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil")) Fail($"nearest_mode '{nearestMode}'");
        if (policy is not ("stretch" or "not_larger" or "not_smaller")) Fail($"keep_aspect_ratio_policy '{policy}'");
        bool antialias = node.GetInt("antialias", 0) != 0;

        return Single(inputs =>
        {
            Tensor x = inputs[0]!;
            int rank = (int)x.dim();
            long[] axes = (axesAttribute ?? Enumerable.Range(0, rank).Select(i => (long)i).ToArray())
                .Select(ax => ax < 0 ? ax + rank : ax).ToArray();
            if (axes.Any(ax => ax < 0 || ax >= rank))
                throw new GraphException($"node '{node.Name}' (Resize): axes [{string.Join(",", axesAttribute!)}] are out of range for rank {rank}");
            double[]? roi = Values(inputs.Length > 1 ? inputs[1] : null);
            double[]? scales = Values(inputs.Length > 2 ? inputs[2] : null);
            double[]? sizes = Values(inputs.Length > 3 ? inputs[3] : null);
            if ((scales is null) == (sizes is null))
                throw new GraphException($"node '{node.Name}' (Resize): exactly one of scales and sizes must be given");
            double[] given = (scales ?? sizes)!;
            if (given.Length != axes.Length)
                throw new GraphException($"node '{node.Name}' (Resize): {(scales != null ? "scales" : "sizes")} has {given.Length} values for {axes.Length} axes");

            var scale = new double[axes.Length];
            var output = new long[axes.Length];
            if (scales != null)
                for (int i = 0; i < axes.Length; i++)
                {
                    scale[i] = scales[i];
                    if (scale[i] <= 0) throw new GraphException($"node '{node.Name}' (Resize): scale {scale[i]} must be positive");
                    double extent = transform == "tf_crop_and_resize" && roi != null ? roi[i + axes.Length] - roi[i] : 1;
                    output[i] = (long)Math.Floor(x.shape[axes[i]] * extent * scale[i]);
                }
            else if (policy == "stretch")
                for (int i = 0; i < axes.Length; i++)
                {
                    output[i] = (long)sizes![i];
                    scale[i] = (double)output[i] / x.shape[axes[i]];
                }
            else
            {
                var ratios = axes.Select((ax, i) => sizes![i] / x.shape[ax]).ToArray();
                double common = policy == "not_larger" ? ratios.Min() : ratios.Max();
                for (int i = 0; i < axes.Length; i++)
                {
                    scale[i] = common;
                    output[i] = (long)Math.Round(common * x.shape[axes[i]], MidpointRounding.ToEven);
                }
            }

            var resized = OpArgs.Shape(x);
            for (int i = 0; i < axes.Length; i++) resized[(int)axes[i]] = output[i];
            Engine.MemoryGuard.CheckComputed(node, resized, x.dtype);

            bool integral = !x.is_floating_point();
            Tensor y = integral && mode != "nearest" ? x.to_type(ScalarType.Float32) : x;
            for (int i = 0; i < axes.Length; i++)
            {
                int axis = (int)axes[i];
                long input = x.shape[axis];
                if (output[i] < 1)
                    throw new GraphException($"node '{node.Name}' (Resize): output size {output[i]} on axis {axis} is not positive");
                if (output[i] == input && scale[i] == 1 && transform != "tf_crop_and_resize") continue;
                double start = roi?[i] ?? 0, end = roi?[i + axes.Length] ?? 1;
                var source = new double[output[i]];
                for (long o = 0; o < output[i]; o++)
                    source[o] = Coordinate(transform, o, scale[i], input, output[i], start, end);
                y = mode == "nearest" ? Nearest(y, axis, source, input, nearestMode)
                    : Interpolate(y, axis, source, input, Filter(mode == "cubic", a, excludeOutside, antialias ? Math.Min(1, scale[i]) : 1));
                if (transform == "tf_crop_and_resize" && source.Any(c => c < 0 || c > input - 1))
                {
                    var shape = Enumerable.Repeat(1L, rank).ToArray();
                    shape[axis] = output[i];
                    var outside = tensor(source.Select(c => c < 0 || c > input - 1).ToArray(), device: y.device).reshape(shape);
                    y = y.masked_fill(outside, extrapolation);
                }
            }
            return integral && mode != "nearest" ? y.round().to_type(x.dtype) : y;
        });
    }

    static double[]? Values(Tensor? t) =>
        t is null || t.numel() == 0 ? null : t.to_type(ScalarType.Float64).cpu().data<double>().ToArray();

    /// <summary>The input coordinate of output index <paramref name="o"/> on one axis.</summary>
    /// <remarks>The resized length is scale · input, which may be fractional when scales are given.</remarks>
    static double Coordinate(string transform, long o, double scale, long input, long output, double start, double end) => transform switch
    {
        "half_pixel" => (o + 0.5) / scale - 0.5,
        "half_pixel_symmetric" => input / 2.0 * (1 - output / (scale * input)) + (o + 0.5) / scale - 0.5,
        "pytorch_half_pixel" => scale * input > 1 ? (o + 0.5) / scale - 0.5 : 0,
        "align_corners" => scale * input == 1 ? 0 : o * (input - 1) / (scale * input - 1),
        "asymmetric" => o / scale,
        "tf_half_pixel_for_nn" => (o + 0.5) / scale,
        _ => output > 1 ? start * (input - 1) + o * (end - start) * (input - 1) / (output - 1) : 0.5 * (start + end) * (input - 1),
    };

    static Tensor Nearest(Tensor x, int axis, double[] source, long input, string nearestMode)
    {
        var index = source.Select(c =>
        {
            double floor = Math.Floor(c);
            double rounded = nearestMode switch
            {
                "floor" => floor,
                "ceil" => Math.Ceiling(c),
                "round_prefer_ceil" => c - floor == 0.5 ? floor + 1 : Math.Floor(c + 0.5),
                _ => c - floor == 0.5 ? floor : Math.Floor(c + 0.5),
            };
            return Math.Clamp((long)rounded, 0, input - 1);
        }).ToArray();
        return x.index_select(axis, tensor(index, device: x.device));
    }

    /// <summary>The input taps and their weights for one output coordinate.</summary>
    delegate IEnumerable<(long Index, double Weight)> Taps(double coordinate, long input);

    /// <summary>
    /// The taps of a linear (radius 1) or cubic (radius 2, Keys' kernel with coefficient <paramref name="a"/>)
    /// filter, stretched by 1/<paramref name="stretch"/> when antialiasing a downscale (stretch = scale &lt; 1).
    /// Taps past the input repeat the edge, or with <paramref name="excludeOutside"/> are dropped and the
    /// remaining weights renormalised.
    /// </summary>
    static Taps Filter(bool cubic, double a, bool excludeOutside, double stretch) => (c, input) =>
    {
        double radius = cubic ? 2 : 1;
        long floor = (long)Math.Floor(c);
        double t = c - floor;
        long first = (long)Math.Floor(-radius / stretch) + 1;
        var taps = new List<(long Index, double Weight)>();
        for (long i = first; i < 2 - first; i++)
        {
            double d = Math.Abs((i - t) * stretch);
            double w = cubic
                ? d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0
                : Math.Max(0, 1 - d);
            taps.Add((floor + i, w));
        }
        if (excludeOutside) taps.RemoveAll(p => p.Index < 0 || p.Index >= input);
        double total = taps.Sum(p => p.Weight);
        return taps.Select(p => (Math.Clamp(p.Index, 0, input - 1), p.Weight / total));
    };

    static Tensor Interpolate(Tensor x, int axis, double[] source, long input, Taps taps)
    {
        var matrix = new double[input * source.Length];
        for (int o = 0; o < source.Length; o++)
            foreach (var (index, weight) in taps(source[o], input))
                matrix[index * source.Length + o] += weight;
        var weights = tensor(matrix, dtype: x.dtype, device: x.device).reshape(input, source.Length);
        return x.transpose(axis, -1).matmul(weights).transpose(axis, -1);
    }
}
