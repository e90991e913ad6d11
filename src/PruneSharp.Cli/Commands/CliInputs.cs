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

    /// <summary>
    /// True if <paramref name="spec"/> names unlabeled model inputs: a .npy/.npz file, a text file with a WordPiece
    /// <paramref name="tokenizer"/> (an encoder's sentences), or a folder of images without class sub-folders.
    /// </summary>
    public static bool IsUnlabeled(string spec, string tokenizer) =>
        spec.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || spec.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)
        || (File.Exists(spec) && tokenizer.StartsWith(WordPiecePrefix, StringComparison.OrdinalIgnoreCase))
        || (Directory.Exists(spec) && !Directory.EnumerateDirectories(spec).Any() && ImageFolderLike(spec));

    /// <summary>The <c>--tokenizer</c> prefix of a WordPiece vocabulary (<c>wordpiece:vocab.txt</c>).</summary>
    public const string WordPiecePrefix = "wordpiece:";

    /// <summary>
    /// The unlabeled examples in <paramref name="spec"/> (<see cref="IsUnlabeled"/>) for <paramref name="model"/>:
    /// arrays by name (a .npy feeds the first input), lines of text tokenised with the WordPiece vocabulary of
    /// <paramref name="tokenizer"/> into <paramref name="length"/> tokens (at most the position table's rows) for the
    /// inputs the model takes, or images read and normalised as <paramref name="preprocessing"/> says.
    /// </summary>
    public static IInputExamples LoadExamples(string spec, GraphModule model, string tokenizer, int length, Preprocessing preprocessing)
    {
        RequireInputs(model);
        var inputs = model.Graph.Inputs;
        if (spec.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) return new TensorExamples(NpyFile.ReadArchive(spec));
        if (spec.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            return new TensorExamples(new Dictionary<string, TorchSharp.torch.Tensor> { [inputs[0].Name] = NpyFile.Read(spec) });
        if (File.Exists(spec))
        {
            var ids = inputs.FirstOrDefault(i => i.Name == TokenizedText.InputIds) ?? inputs.FirstOrDefault(i => i.ElementType is DataType.Int64 or DataType.Int32)
                ?? throw new ArgumentException($"--data '{spec}' is text, but the model has no integer input for token ids (inputs: {string.Join(", ", inputs.Select(i => i.Name))})");
            int cap = (int)Math.Min(length, InputSynthesis.LongestSequence(model.Graph) ?? length);
            var vocabulary = WordPieceTokenizer.FromVocabulary(tokenizer[WordPiecePrefix.Length..]);
            return TokenizedText.Load(spec, vocabulary, cap, ids.Name,
                mask: inputs.Any(i => i.Name == TokenizedText.AttentionMask), types: inputs.Any(i => i.Name == TokenizedText.TokenTypeIds));
        }
        var images = ImageFolder.Load(spec, preprocessing);
        PreprocessingFlags.Apply(preprocessing, images);
        return new ImageExamples(images, inputs[0].Name);
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
    /// <param name="foldShapes">Apply the load passes that structured pruning needs to an ONNX file (<see cref="StructuralPasses"/>: run-time shape arithmetic folded, weights transposed at run time stored as their transpose, ...).</param>
    public static GraphModule LoadModel(string spec, ImageDataset? data, long seed = 0, bool foldShapes = false)
    {
        if (File.Exists(spec) || spec.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (!foldShapes) return OnnxFile.Load(spec);
            var graph = OnnxFile.Read(spec);
            StructuralPasses.Apply(graph);
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
