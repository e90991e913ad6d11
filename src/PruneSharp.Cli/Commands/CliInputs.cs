using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Graph.Passes;
using PruneSharp.Models;
using PruneSharp.Onnx;

namespace PruneSharp.Cli.Commands;

/// <summary>How the commands read <c>--model</c> and <c>--data</c>.</summary>
static class CliInputs
{
    public const string DataHelp =
        "fashion-mnist, mnist, cifar-10, a folder holding IDX files (train-images-idx3-ubyte, ...) or the CIFAR binary batches, " +
        "or a folder of images (one sub-folder per class, or none: unlabeled) with --crop";

    /// <summary>
    /// The <paramref name="split"/> of the data set named or located by <paramref name="spec"/>; an image folder (both
    /// splits: the whole folder) is read at the sizes of <paramref name="sizes"/> (<c>--resize</c>, <c>--crop</c>).
    /// </summary>
    public static ImageDataset LoadData(string spec, DataSplit split, Preprocessing? sizes = null)
    {
        switch (spec.ToLowerInvariant())
        {
            case DataLocations.FashionMnist: return IdxImages.LoadFashionMnist(split);
            case DataLocations.Mnist: return IdxImages.LoadMnist(split);
            case DataLocations.Cifar10: return CifarBinary.LoadCifar10(split);
        }
        if (!Directory.Exists(spec))
            throw new ArgumentException($"--data '{spec}' is neither a known data set ({DataHelp}) nor a folder");
        var files = Directory.EnumerateFiles(spec).Select(f => Path.GetFileName(f)!).ToList();
        bool idx = files.Any(f => f.StartsWith("train-", StringComparison.Ordinal) || f.StartsWith("t10k-", StringComparison.Ordinal));
        bool cifar = files.Any(f => f.StartsWith("data_batch", StringComparison.Ordinal) || f.StartsWith("test_batch", StringComparison.Ordinal))
            || Directory.Exists(Path.Combine(spec, "cifar-10-batches-bin"));
        if (!idx && !cifar && ImageFolderLike(spec))
        {
            if (sizes?.Crop is null)
                throw new ArgumentException($"--data '{spec}' is an image folder: give the model's input size with --crop N (and --resize N to scale the shorter side first)");
            return ImageFolder.Load(spec, sizes);
        }
        if (!idx && !cifar)
            throw new ArgumentException($"--data '{spec}' holds neither IDX files (train-images-idx3-ubyte, ...) nor CIFAR-10 binary batches (data_batch_1.bin, ...)" +
                (files.Count == 0 ? "; the folder is empty" : ""));
        return idx ? IdxImages.Load(spec, split, IdxImages.DigitClasses) : CifarBinary.LoadCifar10(split, spec);
    }

    /// <summary>True if <paramref name="folder"/> holds images or sub-folders (what <see cref="ImageFolder"/> reads).</summary>
    static bool ImageFolderLike(string folder) =>
        Directory.EnumerateDirectories(folder).Any()
        || Directory.EnumerateFiles(folder).Any(f => Path.GetExtension(f).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg" or ".bmp" or ".gif" or ".webp");

    /// <summary>
    /// The model <paramref name="spec"/>: an ONNX file, or a zoo name built for the images and classes of
    /// <paramref name="data"/> (1×28×28, 10 classes without data).
    /// </summary>
    /// <param name="spec">The file or zoo name.</param>
    /// <param name="data">The data set a zoo model is built for.</param>
    /// <param name="seed">The zoo model's initialisation seed.</param>
    /// <param name="foldShapes">Fold an ONNX file's shape arithmetic into constant Reshape targets (<see cref="ShapeFolding"/>) and store weights transposed at run time as their transpose (<see cref="WeightTransposes"/>), as structured pruning needs.</param>
    public static GraphModule LoadModel(string spec, ImageDataset? data, long seed = 0, bool foldShapes = false)
    {
        if (File.Exists(spec) || spec.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (!foldShapes) return OnnxFile.Load(spec);
            var graph = OnnxFile.Read(spec);
            InitializerCopies.Materialize(graph);
            WeightTransposes.Materialize(graph);
            ShapeGathers.Apply(graph);
            ShapeFolding.Apply(graph);
            return new GraphModule(graph);
        }
        if (!ModelZoo.IsClassifier(spec))
            throw new ArgumentException($"--model '{spec}' is neither an ONNX file nor a zoo classifier ({string.Join(", ", ModelZoo.ClassifierNames)})");
        var options = data is null ? new ClassifierOptions(Seed: seed)
            : new ClassifierOptions(data.Channels, data.Height, data.Classes.Count, seed);
        if (data is not null && data.Height != data.Width)
            throw new ArgumentException($"zoo models take square images; the data has {data.Height}x{data.Width}");
        return ModelZoo.CreateClassifier(spec, options);
    }

    static void RequireInputs(GraphModule model)
    {
        if (model.Graph.Inputs.Count == 0)
            throw new ArgumentException("the model has no graph inputs to feed: a graph input that shares its name with an initializer is read as that constant (ONNX's rule); rename the initializer or drop it");
    }

    /// <summary>
    /// Example inputs for every graph input of <paramref name="model"/>, as <see cref="InputSynthesis"/> makes them from
    /// the graph and <paramref name="options"/> (given tensors fed as they are).
    /// </summary>
    public static TorchSharp.torch.Tensor[] Examples(GraphModule model, InputSynthesisOptions options, long seed = 0)
    {
        RequireInputs(model);
        return InputSynthesis.Synthesize(model.Graph, options, seed);
    }
}
