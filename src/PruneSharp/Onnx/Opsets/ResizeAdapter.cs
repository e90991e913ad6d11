using PruneSharp.Graph;
using TorchSharp;

namespace PruneSharp.Onnx.Opsets;

/// <summary>
/// Upsample (scales as an attribute up to opset 8, as an input from 9) and Resize-10 become Resize-11 with an
/// empty roi and the coordinate mapping they always had: <c>asymmetric</c> (x_in = x_out / scale). In nearest mode
/// ONNX Runtime rounds x_in down when enlarging and up when shrinking an axis (its <c>nearest_mode</c> for these ops), so
/// the upgrade gives <c>floor</c> or <c>ceil</c> by the constant scales; scales computed at run time are taken to enlarge,
/// as Upsample's must. Written back where the Resize keeps to that form and gives scales, not sizes.
/// </summary>
sealed class ResizeAdapter : OpsetAdapter
{
    public override IReadOnlyList<string> OldOpTypes => new[] { "Upsample", "Resize" };
    public override IReadOnlyList<string> NewOpTypes => new[] { "Resize" };

    public override IReadOnlyList<Node> Upgrade(Node node, int opset, ConversionContext context)
    {
        if (node.OpType == "Resize" && opset < 10)
            throw new UnsupportedOpException($"node '{node.Name}': op Resize does not exist at opset {opset} (it was added at opset 10)");
        string mode = node.GetString("mode", "nearest");
        if (mode is not ("nearest" or "linear")) throw Malformed(node, $"mode '{mode}' is not one of nearest, linear");
        string scales;
        if (node.OpType == "Upsample" && opset < 9)
        {
            var values = node.GetFloats("scales") ?? throw Malformed(node, $"the 'scales' attribute is missing (required at opset {opset})");
            scales = context.AddInitializer($"{node.Name}_scales", torch.tensor(values.ToArray()));
        }
        else
        {
            scales = node.InputOrNull(1) ?? throw Malformed(node, "the scales input is missing");
        }
        string roi = context.AddInitializer($"{node.Name}_roi", torch.empty(0));
        var attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
        {
            ["mode"] = AttributeValue.FromString(mode),
            ["coordinate_transformation_mode"] = AttributeValue.FromString("asymmetric"),
        };
        if (mode == "nearest") attributes["nearest_mode"] = AttributeValue.FromString(Shrinks(node, context.Constant(scales)) ? "ceil" : "floor");
        return new[] { Rebuild(node, "Resize", new[] { node.Inputs[0], roi, scales }, attributes) };
    }

    /// <summary>True if constant <paramref name="scales"/> shrink some axis (and enlarge none, which one rounding cannot express).</summary>
    static bool Shrinks(Node node, torch.Tensor? scales)
    {
        if (scales is null) return false;
        float[] values = scales.to_type(torch.float32).cpu().data<float>().ToArray();
        bool shrinks = values.Any(v => v < 1), enlarges = values.Any(v => v > 1);
        if (shrinks && enlarges)
            throw new UnsupportedOpException($"node '{node.Name}' ({node.OpType}): nearest resizing that enlarges some axes and shrinks others rounds each differently, which Resize-{OpsetConversion.Target} cannot express");
        return shrinks;
    }

    public override IReadOnlyList<Node> Downgrade(Node node, int opset, ConversionContext context)
    {
        string mode = node.GetString("mode", "nearest");
        if (mode is not ("nearest" or "linear")) throw Inexpressible(node, opset, $"mode '{mode}' exists from opset {OpsetConversion.Target}");
        if (node.GetString("coordinate_transformation_mode", "half_pixel") != "asymmetric")
            throw Inexpressible(node, opset, $"coordinate_transformation_mode '{node.GetString("coordinate_transformation_mode", "half_pixel")}' exists from opset {OpsetConversion.Target} (older resizes are asymmetric)");
        string rounding = node.GetString("nearest_mode", "round_prefer_floor");
        if (mode == "nearest" && rounding != (Shrinks(node, context.Constant(node.InputOrNull(2))) ? "ceil" : "floor"))
            throw Inexpressible(node, opset, $"nearest_mode '{rounding}' with these scales exists from opset {OpsetConversion.Target} (older resizes round down when enlarging, up when shrinking)");
        if (node.GetInt("exclude_outside", 0) != 0) throw Inexpressible(node, opset, $"exclude_outside exists from opset {OpsetConversion.Target}");
        if (node.InputOrNull(3) != null) throw Inexpressible(node, opset, $"output sizes (instead of scales) exist from opset {OpsetConversion.Target}");
        string scales = node.InputOrNull(2) ?? throw Malformed(node, "neither scales nor sizes are given");
        var attributes = new Dictionary<string, AttributeValue>(StringComparer.Ordinal) { ["mode"] = AttributeValue.FromString(mode) };
        if (opset >= 10) return new[] { Rebuild(node, "Resize", new[] { node.Inputs[0], scales }, attributes) };
        if (context.Constant(scales) is { } constant && constant.to_type(torch.float32).cpu().data<float>().ToArray() is var values)
        {
            if (values.Any(v => v < 1)) throw Inexpressible(node, opset, "Upsample only enlarges (every scale at least 1)");
            if (opset < 9)
            {
                attributes["scales"] = AttributeValue.FromFloats(values);
                return new[] { Rebuild(node, "Upsample", new[] { node.Inputs[0] }, attributes) };
            }
        }
        else if (opset < 9) throw Inexpressible(node, opset, $"its scales are computed at run time, and opset {opset} takes them as an attribute");
        return new[] { Rebuild(node, "Upsample", new[] { node.Inputs[0], scales }, attributes) };
    }
}
