using System.Globalization;
using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Data;

/// <summary>
/// What the data pipeline feeds a model: 8-bit pixels scaled to [0, 1], then per channel <c>(x − mean) / std</c>
/// (<see cref="Normalization"/>; none: the [0, 1] values as they are). A record that a recipe can hold; the command
/// line fills it from <c>--normalize MEAN[,MEAN…]/STD[,STD…]</c> or from the model's metadata.
/// <para>
/// In an ONNX file it is described by <c>metadata_props</c> (<see cref="MeanKey"/>, <see cref="StdKey"/>,
/// <see cref="InModelKey"/>): comma lists of invariant-culture numbers, one per channel, on the [0, 1] scale.
/// <see cref="InModel"/> means the graph applies the normalisation itself (<see cref="EmbedInto"/>: Sub and Div nodes
/// at the input), so the pipeline feeds [0, 1] values.
/// </para>
/// </summary>
/// <param name="Normalization">The per-channel mean and std, or null for [0, 1] values as they are.</param>
/// <param name="InModel">The model's graph applies <paramref name="Normalization"/> itself; the pipeline feeds [0, 1] values.</param>
/// <param name="Source">Where the description came from (e.g. <c>--normalize</c>, <c>model metadata</c>, <c>default</c>).</param>
public sealed record Preprocessing(Normalization? Normalization = null, bool InModel = false, string Source = "default")
{
    /// <summary>Metadata key of the per-channel means (<c>0.2860</c>, <c>0.485,0.456,0.406</c>).</summary>
    public const string MeanKey = "prunesharp.preprocessing.mean";

    /// <summary>Metadata key of the per-channel standard deviations.</summary>
    public const string StdKey = "prunesharp.preprocessing.std";

    /// <summary>Metadata key that is <c>true</c> when the graph normalises its input itself (nodes at the input).</summary>
    public const string InModelKey = "prunesharp.preprocessing.in_model";

    /// <summary>Metadata key of <see cref="Resize"/> (an integer, as text).</summary>
    public const string ResizeKey = "prunesharp.preprocessing.resize";

    /// <summary>Metadata key of <see cref="Crop"/> (an integer, as text).</summary>
    public const string CropKey = "prunesharp.preprocessing.crop";

    /// <summary>Image folders: the shorter side is scaled to this many pixels (aspect kept) before <see cref="Crop"/>; null: to the crop size.</summary>
    public int? Resize { get; init; }

    /// <summary>Image folders: the centre square of this many pixels is kept (the model's input size); null: the data set's own size.</summary>
    public int? Crop { get; init; }

    /// <summary>[0, 1] pixels, no normalisation.</summary>
    public static Preprocessing None { get; } = new();

    /// <summary>The normalisation the pipeline applies to what it feeds (none when the model applies it itself).</summary>
    public Normalization? Fed => InModel ? null : Normalization;

    /// <summary>Reads <c>MEAN[,MEAN…]/STD[,STD…]</c>, e.g. <c>0.2860/0.3530</c> or <c>0.485,0.456,0.406/0.229,0.224,0.225</c>.</summary>
    /// <exception cref="ArgumentException">The text is not of that form, a number is not finite, a std is not positive, or the counts differ.</exception>
    public static Preprocessing ParseNormalize(string text, string source = "--normalize")
    {
        var parts = text.Split('/');
        if (parts.Length != 2)
            throw new ArgumentException($"{source} '{text}' is not MEAN[,MEAN...]/STD[,STD...] (e.g. 0.2860/0.3530 or 0.485,0.456,0.406/0.229,0.224,0.225)");
        var mean = Numbers(parts[0], source, "mean");
        var std = Numbers(parts[1], source, "std");
        if (mean.Length != std.Length)
            throw new ArgumentException($"{source} '{text}' gives {mean.Length} mean(s) and {std.Length} std(s); give one of each per channel");
        if (std.Any(s => !(s > 0))) throw new ArgumentException($"{source} '{text}': every std must be positive");
        return new Preprocessing(new Normalization(mean, std), Source: source);
    }

    /// <summary>
    /// The preprocessing an ONNX file's metadata describes (<see cref="MeanKey"/>, <see cref="StdKey"/>,
    /// <see cref="InModelKey"/>), or null if it describes none.
    /// </summary>
    /// <exception cref="DataFormatException">A key is present without the other, or a value is malformed; the message names the key.</exception>
    public static Preprocessing? FromMetadata(IReadOnlyDictionary<string, string> metadata, string file)
    {
        bool hasMean = metadata.TryGetValue(MeanKey, out string? mean), hasStd = metadata.TryGetValue(StdKey, out string? std);
        if (!hasMean && !hasStd) return null;
        if (!hasMean || !hasStd) throw new DataFormatException(file, $"metadata has {(hasMean ? MeanKey : StdKey)} but not {(hasMean ? StdKey : MeanKey)}");
        bool inModel = false;
        if (metadata.TryGetValue(InModelKey, out string? flag) && !bool.TryParse(flag, out inModel))
            throw new DataFormatException(file, $"metadata {InModelKey} is '{flag}', not true or false");
        try
        {
            return ParseNormalize($"{mean}/{std}", "model metadata") with { InModel = inModel, Resize = Size(metadata, ResizeKey, file), Crop = Size(metadata, CropKey, file) };
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(file, $"metadata {MeanKey}/{StdKey}: {e.Message}");
        }
    }

    /// <summary>Writes this description into <paramref name="metadata"/> (removing the keys when there is no normalisation).</summary>
    public void WriteMetadata(IDictionary<string, string> metadata)
    {
        metadata.Remove(MeanKey);
        metadata.Remove(StdKey);
        metadata.Remove(InModelKey);
        metadata.Remove(ResizeKey);
        metadata.Remove(CropKey);
        if (Normalization is not { } n) return;
        metadata[MeanKey] = string.Join(",", n.Mean.Select(Number));
        metadata[StdKey] = string.Join(",", n.Std.Select(Number));
        metadata[InModelKey] = InModel ? "true" : "false";
        metadata.Remove(ResizeKey);
        metadata.Remove(CropKey);
        if (Resize is { } resize) metadata[ResizeKey] = resize.ToString(CultureInfo.InvariantCulture);
        if (Crop is { } crop) metadata[CropKey] = crop.ToString(CultureInfo.InvariantCulture);
    }

    static int? Size(IReadOnlyDictionary<string, string> metadata, string key, string file)
    {
        if (!metadata.TryGetValue(key, out string? text)) return null;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int size) && size > 0 ? size
            : throw new DataFormatException(file, $"metadata {key} is '{text}', not a positive number of pixels");
    }

    /// <summary>
    /// Adds the normalisation to <paramref name="graph"/> as <c>Sub</c> and <c>Div</c> nodes reading its first input
    /// (constants of <c>Constant</c> nodes, never trained), rewires every other reader of the input to their result and
    /// records it in the metadata (<see cref="InModelKey"/>). Nodes are replaced, never edited, so a graph that
    /// shares its nodes with a live <see cref="Graph.GraphModule"/> leaves that module unchanged. Returns the description of what to feed the new graph.
    /// </summary>
    /// <exception cref="ArgumentException">No normalisation to embed, the model applies it already, or the input's channel count (dimension 1) differs from the normalisation's.</exception>
    public Preprocessing EmbedInto(Graph.Graph graph)
    {
        if (Normalization is not { } n) throw new ArgumentException("--embed-preprocessing: there is no normalisation to embed (give --normalize)");
        if (InModel) throw new ArgumentException("--embed-preprocessing: the model normalises its input already (its metadata says so)");
        var input = graph.Inputs[0];
        if (input.ElementType != DataType.Float || input.Shape is not { Count: >= 2 } shape)
            throw new ArgumentException($"--embed-preprocessing: the model's input '{input.Name}' is not a float tensor of rank 2 or more");
        if (shape[1].Size is long channels && channels != n.Mean.Count)
            throw new ArgumentException($"--embed-preprocessing: the input '{input.Name}' has {channels} channel(s) in dimension 1, the normalisation {n.Mean.Count}");
        var broadcast = new long[shape.Count];
        Array.Fill(broadcast, 1L);
        broadcast[1] = n.Mean.Count;
        string stem = $"{input.Name}.preprocessing";
        string meanName = $"{stem}.mean", stdName = $"{stem}.std", centred = $"{stem}.centred", normalised = $"{stem}.normalised";
        for (int k = 0; k < graph.Nodes.Count; k++)
        {
            var node = graph.Nodes[k];
            if (!node.Inputs.Contains(input.Name)) continue;
            // A copy, not an edit: the graph may share its nodes with a live GraphModule (GraphModule.ToGraph).
            graph.Nodes[k] = new Node(node.Name, node.OpType, node.Inputs.Select(i => i == input.Name ? normalised : i), node.Outputs,
                node.Attributes, node.Domain);
        }
        var created = new[]
        {
            new Node(meanName, "Constant", Array.Empty<string>(), new[] { meanName }, new Dictionary<string, AttributeValue> { ["value"] = AttributeValue.FromTensor(tensor(n.Mean.ToArray()).reshape(broadcast)) }),
            new Node(stdName, "Constant", Array.Empty<string>(), new[] { stdName }, new Dictionary<string, AttributeValue> { ["value"] = AttributeValue.FromTensor(tensor(n.Std.ToArray()).reshape(broadcast)) }),
            new Node(centred, "Sub", new[] { input.Name, meanName }, new[] { centred }),
            new Node(normalised, "Div", new[] { centred, stdName }, new[] { normalised }),
        };
        graph.Nodes.InsertRange(0, created);
        var embedded = this with { InModel = true };
        embedded.WriteMetadata(graph.Metadata);
        return embedded;
    }

    /// <summary>What is fed, in words: <c>pixels scaled to [0, 1], then (x - mean) / std with mean [0.286], std [0.353] (from --normalize)</c>.</summary>
    public string Describe() => Crop is int crop ? $"images resized (shorter side {Resize ?? crop}) and centre-cropped to {crop}x{crop}; {Values()}" : Values();

    string Values()
    {
        if (Normalization is not { } n)
            return Source == None.Source ? "pixels scaled to [0, 1], not normalised (default; give --normalize MEAN/STD if the model was trained on normalised inputs)"
                : $"pixels scaled to [0, 1], not normalised ({Source})";
        string values = $"mean [{string.Join(", ", n.Mean.Select(Number))}], std [{string.Join(", ", n.Std.Select(Number))}]";
        return InModel ? $"pixels scaled to [0, 1]; the model normalises them itself with {values} ({Source})"
            : $"pixels scaled to [0, 1], then (x - mean) / std with {values} ({Source})";
    }

    static float[] Numbers(string list, string source, string what) => list.Split(',').Select(t =>
        float.TryParse(t.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) ? v
            : throw new ArgumentException($"{source}: {what} '{t}' is not a number")).ToArray();

    static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
