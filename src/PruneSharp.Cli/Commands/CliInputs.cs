using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Pipelines;

namespace PruneSharp.Cli.Commands;

/// <summary>How the commands read <c>--model</c> and <c>--data</c>.</summary>
static class CliInputs
{
    public const string DataHelp = Sources.DataHelp;

    /// <summary>The <paramref name="split"/> of the data set <paramref name="spec"/> (<see cref="Sources.LoadData"/>).</summary>
    public static ImageDataset LoadData(string spec, DataSplit split, Preprocessing? sizes = null) => Sources.LoadData(spec, split, sizes);

    /// <summary>
    /// True if <paramref name="spec"/> names unlabeled model inputs: a .npy/.npz file, a text file with a WordPiece
    /// <paramref name="tokenizer"/> (an encoder's sentences), or a folder of images without class sub-folders.
    /// </summary>
    public static bool IsUnlabeled(string spec, string tokenizer) =>
        spec.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || spec.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)
        || (File.Exists(spec) && tokenizer.StartsWith(Sources.WordPiecePrefix, StringComparison.OrdinalIgnoreCase))
        || (Directory.Exists(spec) && !Directory.EnumerateDirectories(spec).Any() && Sources.ImageFolderLike(spec));

    /// <summary>
    /// The unlabeled examples in <paramref name="spec"/> (<see cref="IsUnlabeled"/>) for <paramref name="model"/>:
    /// arrays by name (a .npy feeds the first input), lines of text tokenised with the WordPiece vocabulary of
    /// <paramref name="tokenizer"/> into <paramref name="length"/> tokens (at most the position table's rows) for the
    /// inputs the model takes, or images read and normalised as <paramref name="preprocessing"/> says.
    /// </summary>
    public static IInputExamples LoadExamples(string spec, GraphModule model, string tokenizer, int length, Preprocessing preprocessing)
    {
        Sources.RequireInputs(model);
        var inputs = model.Graph.Inputs;
        if (spec.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) return new TensorExamples(NpyFile.ReadArchive(spec));
        if (spec.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            return new TensorExamples(new Dictionary<string, TorchSharp.torch.Tensor> { [inputs[0].Name] = NpyFile.Read(spec) });
        if (File.Exists(spec))
        {
            var ids = inputs.FirstOrDefault(i => i.Name == TokenizedText.InputIds) ?? inputs.FirstOrDefault(i => i.ElementType is DataType.Int64 or DataType.Int32)
                ?? throw new ArgumentException($"--data '{spec}' is text, but the model has no integer input for token ids (inputs: {string.Join(", ", inputs.Select(i => i.Name))})");
            int cap = (int)Math.Min(length, InputSynthesis.LongestSequence(model.Graph) ?? length);
            var vocabulary = WordPieceTokenizer.FromVocabulary(tokenizer[Sources.WordPiecePrefix.Length..]);
            return TokenizedText.Load(spec, vocabulary, cap, ids.Name,
                mask: inputs.Any(i => i.Name == TokenizedText.AttentionMask), types: inputs.Any(i => i.Name == TokenizedText.TokenTypeIds));
        }
        var images = ImageFolder.Load(spec, preprocessing);
        PreprocessingFlags.Apply(preprocessing, images);
        return new ImageExamples(images, inputs[0].Name);
    }

    /// <summary>The model <paramref name="spec"/>: an ONNX file or a zoo name (<see cref="Sources.LoadModel"/>).</summary>
    public static GraphModule LoadModel(string spec, ImageDataset? data, long seed = 0, bool foldShapes = false) => Sources.LoadModel(spec, data, seed, foldShapes);

    /// <summary>
    /// Example inputs for every graph input of <paramref name="model"/>, as <see cref="InputSynthesis"/> makes them from
    /// the graph and <paramref name="options"/> (given tensors fed as they are).
    /// </summary>
    public static TorchSharp.torch.Tensor[] Examples(GraphModule model, InputSynthesisOptions options, long seed = 0)
    {
        Sources.RequireInputs(model);
        return InputSynthesis.Synthesize(model.Graph, options, seed);
    }
}
