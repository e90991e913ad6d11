using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Graph.Passes;
using PruneSharp.Models;
using PruneSharp.Onnx;

namespace PruneSharp.Pipelines;

/// <summary>
/// Where a pipeline's model and data come from: an ONNX file or a zoo name, a named data set or a folder. Every error
/// names the field it came from (<c>--data</c> on the command line, <c>data.source</c> in a recipe).
/// </summary>
public static class Sources
{
    /// <summary>The data sets known by name, for help texts.</summary>
    public const string DataHelp =
        "fashion-mnist, mnist, cifar-10, a folder holding IDX files (train-images-idx3-ubyte, ...) or the CIFAR binary batches, " +
        "or a folder of images (one sub-folder per class, or none: unlabeled) with --crop";

    /// <summary>
    /// The <paramref name="split"/> of the data set named or located by <paramref name="spec"/>; an image folder (both
    /// splits: the whole folder) is read at the sizes of <paramref name="sizes"/> (resize, crop).
    /// </summary>
    /// <exception cref="ArgumentException">The data set is unknown, or the folder holds nothing readable; the message names <paramref name="field"/>.</exception>
    public static ImageDataset LoadData(string spec, DataSplit split, Preprocessing? sizes = null, string field = "--data")
    {
        switch (spec.ToLowerInvariant())
        {
            case DataLocations.FashionMnist: return IdxImages.LoadFashionMnist(split);
            case DataLocations.Mnist: return IdxImages.LoadMnist(split);
            case DataLocations.Cifar10: return CifarBinary.LoadCifar10(split);
        }
        if (!Directory.Exists(spec))
            throw new ArgumentException($"{field} '{spec}' is neither a known data set ({DataHelp}) nor a folder");
        var files = Directory.EnumerateFiles(spec).Select(f => Path.GetFileName(f)!).ToList();
        bool idx = files.Any(f => f.StartsWith("train-", StringComparison.Ordinal) || f.StartsWith("t10k-", StringComparison.Ordinal));
        bool cifar = files.Any(f => f.StartsWith("data_batch", StringComparison.Ordinal) || f.StartsWith("test_batch", StringComparison.Ordinal))
            || Directory.Exists(Path.Combine(spec, "cifar-10-batches-bin"));
        if (!idx && !cifar && ImageFolderLike(spec))
        {
            if (sizes?.Crop is null)
                throw new ArgumentException($"{field} '{spec}' is an image folder: give the model's input size with --crop N (and --resize N to scale the shorter side first)");
            return ImageFolder.Load(spec, sizes);
        }
        if (!idx && !cifar)
            throw new ArgumentException($"{field} '{spec}' holds neither IDX files (train-images-idx3-ubyte, ...) nor CIFAR-10 binary batches (data_batch_1.bin, ...)" +
                (files.Count == 0 ? "; the folder is empty" : ""));
        return idx ? IdxImages.Load(spec, split, IdxImages.DigitClasses) : CifarBinary.LoadCifar10(split, spec);
    }

    /// <summary>True if <paramref name="folder"/> holds images or sub-folders (what <see cref="ImageFolder"/> reads).</summary>
    public static bool ImageFolderLike(string folder) =>
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
    /// <param name="field">The field named in errors.</param>
    public static GraphModule LoadModel(string spec, ImageDataset? data, long seed = 0, bool foldShapes = false, string field = "--model")
    {
        if (File.Exists(spec) || spec.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (!foldShapes) return OnnxFile.Load(spec);
            var graph = OnnxFile.Read(spec);
            StructuralPasses.Apply(graph);
            return new GraphModule(graph);
        }
        if (!ModelZoo.IsClassifier(spec))
            throw new ArgumentException($"{field} '{spec}' is neither an ONNX file nor a zoo classifier ({string.Join(", ", ModelZoo.ClassifierNames)})");
        var options = data is null ? new ClassifierOptions(Seed: seed)
            : new ClassifierOptions(data.Channels, data.Height, data.Classes.Count, seed);
        if (data is not null && data.Height != data.Width)
            throw new ArgumentException($"zoo models take square images; the data has {data.Height}x{data.Width}");
        return ModelZoo.CreateClassifier(spec, options);
    }

    /// <summary>
    /// The tensors of <paramref name="specs"/> by input name: NAME=FILE.npy, or FILE.npz (its arrays by name).
    /// </summary>
    /// <exception cref="ArgumentException">A spec is neither; the message names <paramref name="field"/>.</exception>
    public static Dictionary<string, TorchSharp.torch.Tensor> GivenInputs(IEnumerable<string> specs, string field = "--input")
    {
        var given = new Dictionary<string, TorchSharp.torch.Tensor>(StringComparer.Ordinal);
        foreach (string spec in specs)
        {
            int eq = spec.IndexOf('=');
            if (eq < 0 && spec.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var (name, value) in NpyFile.ReadArchive(spec)) given[name] = value;
                continue;
            }
            if (eq <= 0 || !spec.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"{field} '{spec}' is not NAME=FILE.npy or FILE.npz (e.g. input_ids=ids.npy)");
            given[spec[..eq]] = NpyFile.Read(spec[(eq + 1)..]);
        }
        return given;
    }

    /// <summary>The synthesis options of <paramref name="inputs"/> (null: the graph alone decides).</summary>
    public static InputSynthesisOptions Synthesis(InputsDescription? inputs, string field = "inputs") => inputs is null ? new()
        : new()
        {
            Shapes = InputShapes.Parse(inputs.Shape ?? Array.Empty<string>(), $"{field}.shape"),
            Given = GivenInputs(inputs.Tensors ?? Array.Empty<string>(), $"{field}.tensors"),
        };

    /// <summary>
    /// The preprocessing of a model that neither describes its own nor is given one: none, with a note when its
    /// graph holds constants on the input path (probably its own normalisation).
    /// </summary>
    public static Preprocessing DefaultPreprocessing(GraphModule model)
    {
        var constants = ParameterRoles.Of(model.Graph).ByName.Values.Where(r => r.Kind == ParameterKind.InputConstant).Select(r => r.Name).ToList();
        return constants.Count == 0 ? Preprocessing.None
            : Preprocessing.None with { Source = $"default; the graph has constants on its input path, probably its own normalisation: {string.Join(", ", constants.Take(3)) + (constants.Count > 3 ? $" (+{constants.Count - 3})" : "")}" };
    }

    /// <summary>True if <paramref name="spec"/> names a text corpus (an existing file, or a name ending in <c>.txt</c>) rather than an image data set.</summary>
    public static bool IsText(string spec) => File.Exists(spec) || spec.EndsWith(".txt", StringComparison.OrdinalIgnoreCase);

    /// <summary>The prefix of a WordPiece vocabulary in a tokenizer spec (<c>wordpiece:FILE</c>).</summary>
    public const string WordPiecePrefix = "wordpiece:";

    /// <summary>
    /// True if <paramref name="spec"/> names unlabeled model inputs: a .npy/.npz file, a text file with a WordPiece
    /// <paramref name="tokenizer"/> (an encoder's sentences), or a folder of images without class sub-folders.
    /// </summary>
    public static bool IsUnlabeled(string spec, string tokenizer) =>
        spec.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || spec.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)
        || (File.Exists(spec) && tokenizer.StartsWith(WordPiecePrefix, StringComparison.OrdinalIgnoreCase))
        || (Directory.Exists(spec) && !Directory.EnumerateDirectories(spec).Any() && ImageFolderLike(spec));

    /// <summary>
    /// What <paramref name="data"/> holds, which decides how a pipeline reads it: labelled images (or no data), a
    /// language model's text, or unlabeled inputs (<see cref="IsUnlabeled"/>).
    /// </summary>
    public static DataKind Kind(DataDescription? data) =>
        data is null ? DataKind.Images
        : IsUnlabeled(data.Source, data.Tokenizer ?? "bytes") ? DataKind.Unlabeled
        : IsText(data.Source) ? DataKind.Text : DataKind.Images;

    /// <summary>
    /// The unlabeled examples in <paramref name="spec"/> (<see cref="IsUnlabeled"/>) for <paramref name="model"/>:
    /// arrays by name (a .npy feeds the first input), lines of text tokenised with the WordPiece vocabulary of
    /// <paramref name="tokenizer"/> into <paramref name="length"/> tokens (at most the position table's rows) for the
    /// inputs the model takes, or images read and normalised as <paramref name="preprocessing"/> says.
    /// </summary>
    /// <exception cref="ArgumentException">The model has no input the data can feed; the message names <paramref name="field"/>.</exception>
    public static IInputExamples LoadExamples(string spec, GraphModule model, string tokenizer, int length, Preprocessing preprocessing, string field = "--data")
    {
        RequireInputs(model);
        var inputs = model.Graph.Inputs;
        if (spec.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) return new TensorExamples(NpyFile.ReadArchive(spec));
        if (spec.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            return new TensorExamples(new Dictionary<string, TorchSharp.torch.Tensor> { [inputs[0].Name] = NpyFile.Read(spec) });
        if (File.Exists(spec))
        {
            var ids = inputs.FirstOrDefault(i => i.Name == TokenizedText.InputIds) ?? inputs.FirstOrDefault(i => i.ElementType is DataType.Int64 or DataType.Int32)
                ?? throw new ArgumentException($"{field} '{spec}' is text, but the model has no integer input for token ids (inputs: {string.Join(", ", inputs.Select(i => i.Name))})");
            int cap = (int)Math.Min(length, InputSynthesis.LongestSequence(model.Graph) ?? length);
            var vocabulary = WordPieceTokenizer.FromVocabulary(tokenizer[WordPiecePrefix.Length..]);
            return TokenizedText.Load(spec, vocabulary, cap, ids.Name,
                mask: inputs.Any(i => i.Name == TokenizedText.AttentionMask), types: inputs.Any(i => i.Name == TokenizedText.TokenTypeIds));
        }
        var images = ImageFolder.Load(spec, preprocessing);
        try
        {
            images.Normalization = preprocessing.Fed ?? Normalization.None(images.Channels);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{preprocessing.Source}: {e.Message}", e);
        }
        return new ImageExamples(images, inputs[0].Name);
    }

    /// <summary>
    /// The tokenizer <paramref name="spec"/> names: bytes (UTF-8 bytes, 256 ids), tiktoken:FILE (a tiktoken rank file),
    /// wordpiece:FILE (a BERT vocab.txt or WordPiece tokenizer.json), FILE.json (a BPE tokenizer.json) or FILE.model (SentencePiece).
    /// </summary>
    /// <exception cref="ArgumentException">None of these; the message names <paramref name="field"/>.</exception>
    public static TextTokenizer Tokenizer(string spec, string field = "--tokenizer")
    {
        if (spec.Equals("bytes", StringComparison.OrdinalIgnoreCase)) return TextTokenizer.Bytes;
        if (spec.StartsWith("tiktoken:", StringComparison.OrdinalIgnoreCase)) return TextTokenizer.FromTiktokenFile(spec["tiktoken:".Length..]);
        if (spec.StartsWith(WordPiecePrefix, StringComparison.OrdinalIgnoreCase)) return WordPieceTokenizer.FromVocabulary(spec[WordPiecePrefix.Length..]);
        if (spec.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return Llm.Tokenizers.HfTokenizer.Load(spec);
        if (spec.EndsWith(".model", StringComparison.OrdinalIgnoreCase)) return TextTokenizer.FromSentencePieceModel(spec);
        throw new ArgumentException($"{field} '{spec}' is not bytes, tiktoken:FILE, wordpiece:FILE, FILE.json (tokenizer.json) or FILE.model (SentencePiece)");
    }

    /// <summary>
    /// The language model <paramref name="spec"/>: an ONNX file, or <c>tiny-gpt</c> sized by <paramref name="text"/>
    /// (checked by <see cref="TrainingPipeline.Validate"/>) for the vocabulary of <paramref name="tokenizer"/>, initialised with <paramref name="seed"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Neither; the message names <paramref name="field"/>.</exception>
    public static GraphModule LanguageModel(string spec, TextModelDescription text, TextTokenizer tokenizer, long seed, string field = "model")
    {
        if (File.Exists(spec) || spec.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return OnnxFile.Load(spec);
        if (!spec.Equals("tiny-gpt", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{field} '{spec}' is neither an ONNX file nor a zoo language model (tiny-gpt); text data needs a language model");
        return TinyGpt.Create(new TinyGptOptions(tokenizer.VocabularySize, text.Context, text.Layers, text.Heads, text.Width, TiedHead: !text.Untied, Seed: seed));
    }

    /// <summary>Refuses a model without graph inputs (nothing can be fed to it).</summary>
    /// <exception cref="ArgumentException">The model has none; the message says the likely cause.</exception>
    public static void RequireInputs(GraphModule model)
    {
        if (model.Graph.Inputs.Count == 0)
            throw new ArgumentException("the model has no graph inputs to feed: a graph input that shares its name with an initializer is read as that constant (ONNX's rule); rename the initializer or drop it");
    }
}

/// <summary>What a pipeline's data holds (<see cref="Sources.Kind"/>).</summary>
public enum DataKind
{
    /// <summary>Labelled images (a data set or a folder with one sub-folder per class), or no data.</summary>
    Images,

    /// <summary>A text file a language model is pruned on: its next tokens are the labels, its end is held out for perplexity.</summary>
    Text,

    /// <summary>Unlabeled inputs (.npy/.npz arrays, sentences for a WordPiece encoder, images without classes): distillation recovers.</summary>
    Unlabeled,
}
