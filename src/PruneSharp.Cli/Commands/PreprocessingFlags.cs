using PruneSharp.Pipelines;
using System.CommandLine;
using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>--normalize</c> and <c>--embed-preprocessing</c>: what the data pipeline feeds the model, how it is reported,
/// and how it travels with a written model (its metadata, or nodes at its input); for the commands that write a model
/// (<paramref name="canEmbed"/>) also the opset it is written at (<see cref="OpsetFlag"/>).
/// </summary>
sealed class PreprocessingFlags(bool canEmbed)
{
    readonly OpsetFlag _opset = new();

    public Option<string?> Normalize { get; } = new("--normalize")
    {
        Description = "The normalisation the model was trained with, per channel on the [0, 1] scale: MEAN[,MEAN...]/STD[,STD...] " +
            "(e.g. 0.2860/0.3530, or 0.485,0.456,0.406/0.229,0.224,0.225). Default: the model's metadata, else [0, 1] pixels as they are.",
    };

    public Option<bool> Embed { get; } = new("--embed-preprocessing")
    {
        Description = "Write the normalisation into the output model as Sub/Div nodes at its input (never trained), so that it takes [0, 1] pixels.",
    };

    public Option<int?> Resize { get; } = new("--resize")
    {
        Description = "Image folders: scale each image's shorter side to this many pixels (aspect kept) before --crop (torchvision's Resize). Default: the crop size.",
    };

    public Option<int?> Crop { get; } = new("--crop")
    {
        Description = "Image folders: keep the centre square of this many pixels, the model's input size (torchvision's CenterCrop). Needed for an image folder.",
    };

    /// <summary><c>--keep-opset</c> (given with <c>canEmbed</c>).</summary>
    public Option<bool> KeepOpset => _opset.Keep;

    public IEnumerable<Option> All => canEmbed ? new Option[] { Normalize, Embed, Resize, Crop, _opset.Keep } : new Option[] { Normalize, Resize, Crop };

    /// <summary>Refuses the image preprocessing flags (and <c>--keep-opset</c>) for a text data set (a language model).</summary>
    public void RefuseForText(ParseResult parse)
    {
        if (parse.GetValue(Normalize) is not null || (canEmbed && parse.GetValue(Embed)) || parse.GetValue(Resize) is not null || parse.GetValue(Crop) is not null)
            throw new ArgumentException("--normalize, --embed-preprocessing, --resize and --crop apply to image data, not to a text file");
        if (canEmbed && parse.GetValue(_opset.Keep))
            throw new ArgumentException("--keep-opset applies to image models; a language model is written at the opset it is read at or upgraded to");
    }

    /// <summary>The image sizes of <c>--resize</c> and <c>--crop</c> (no normalisation), checked.</summary>
    public Preprocessing Sizes(ParseResult parse)
    {
        int? resize = parse.GetValue(Resize), crop = parse.GetValue(Crop);
        if (resize is <= 0) throw new ArgumentException($"--resize must be a positive number of pixels, got {resize}");
        if (crop is <= 0) throw new ArgumentException($"--crop must be a positive number of pixels, got {crop}");
        if (resize is not null && crop is null) throw new ArgumentException("--resize goes with --crop (the model's input size)");
        if (resize < crop) throw new ArgumentException($"--resize {resize} is smaller than --crop {crop}");
        return Preprocessing.None with { Resize = resize, Crop = crop };
    }

    /// <summary>The data <paramref name="spec"/> with <c>--normalize</c>, <c>--resize</c> and <c>--crop</c> (checked) and <paramref name="augment"/>.</summary>
    public DataDescription Data(ParseResult parse, string spec, string? augment)
    {
        var sizes = Sizes(parse);
        return new DataDescription(spec, Normalize: parse.GetValue(Normalize), Resize: sizes.Resize, Crop: sizes.Crop, Augment: augment);
    }

    /// <summary>The preprocessing for <paramref name="model"/>: <c>--normalize</c>, else its metadata, else none.</summary>
    public Preprocessing Resolve(ParseResult parse, GraphModule model, string source)
    {
        if (canEmbed) _opset.Validate(parse, model.Graph);
        var sizes = Sizes(parse);
        var resolved = ResolveNormalization(parse, model, source);
        return sizes.Crop is null ? resolved : resolved with { Resize = sizes.Resize, Crop = sizes.Crop };
    }

    Preprocessing ResolveNormalization(ParseResult parse, GraphModule model, string source)
    {
        if (canEmbed && parse.GetValue(Embed) && parse.GetValue(Normalize) is null && Preprocessing.FromMetadata(model.Graph.Metadata, source) is not { InModel: false })
            throw new ArgumentException("--embed-preprocessing needs the normalisation: give --normalize MEAN/STD");
        if (parse.GetValue(Normalize) is { } text)
        {
            var given = Preprocessing.ParseNormalize(text);
            if (Preprocessing.FromMetadata(model.Graph.Metadata, source) is { InModel: true } inside)
                throw new ArgumentException($"--normalize: the model normalises its input itself ({inside.Describe()}); leave --normalize out");
            return given;
        }
        return Preprocessing.FromMetadata(model.Graph.Metadata, source) ?? Sources.DefaultPreprocessing(model);
    }

    /// <summary>Feeds <paramref name="data"/> (each split given) as <paramref name="preprocessing"/> says.</summary>
    public static void Apply(Preprocessing preprocessing, params ImageDataset?[] data)
    {
        foreach (var set in data)
        {
            if (set is null) continue;
            try
            {
                set.Normalization = preprocessing.Fed ?? Normalization.None(set.Channels);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{preprocessing.Source}: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="model"/> with its preprocessing: as metadata, or as nodes with <c>--embed-preprocessing</c>;
    /// at its file's old opset with <c>--keep-opset</c>.
    /// </summary>
    public Preprocessing Save(ParseResult parse, GraphModule model, Preprocessing preprocessing, string path)
    {
        var graph = model.ToGraph();
        var written = preprocessing;
        if (canEmbed && parse.GetValue(Embed)) written = preprocessing.EmbedInto(graph);
        else preprocessing.WriteMetadata(graph.Metadata);
        OnnxFile.Write(canEmbed ? _opset.Apply(parse, graph) : graph, path);
        return written;
    }

    /// <summary>The preprocessing as JSON: range, mean, std, whether the model applies it, and where it came from.</summary>
    public static object Json(Preprocessing p) => new
    {
        range = new[] { 0, 1 },
        mean = p.Normalization?.Mean,
        std = p.Normalization?.Std,
        in_model = p.InModel,
        source = p.Source,
    };

    /// <summary>Prints "input: ..." (what the pipeline feeds).</summary>
    public static void Print(Preprocessing p) => Console.WriteLine($"input: {p.Describe()}");

    /// <summary>Warns on stderr when the dense model's accuracy is near chance.</summary>
    public static void WarnIfImplausible(ClassificationMetrics? dense, int classes)
    {
        if (dense is not null && Plausibility.Classification(dense, classes) is { } warning)
            Console.Error.WriteLine($"prunesharp: warning: {warning}");
    }
}
