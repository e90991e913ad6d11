using PruneSharp.Data;
using PruneSharp.Engine;
using PruneSharp.Graph;
using PruneSharp.Graph.Passes;
using PruneSharp.Models;
using PruneSharp.Onnx;

namespace PruneSharp.Cli.Commands;

/// <summary>How the commands read <c>--model</c> and <c>--data</c>.</summary>
static class CliInputs
{
    public const string DataHelp =
        "fashion-mnist, mnist, cifar-10, or a folder holding IDX files (train-images-idx3-ubyte, ...) or the CIFAR binary batches";

    /// <summary>The <paramref name="split"/> of the data set named or located by <paramref name="spec"/>.</summary>
    public static ImageDataset LoadData(string spec, DataSplit split)
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
        if (!idx && !cifar)
            throw new ArgumentException($"--data '{spec}' holds neither IDX files (train-images-idx3-ubyte, ...) nor CIFAR-10 binary batches (data_batch_1.bin, ...)" +
                (files.Count == 0 ? "; the folder is empty" : ""));
        return idx ? IdxImages.Load(spec, split, IdxImages.DigitClasses) : CifarBinary.LoadCifar10(split, spec);
    }

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

    /// <summary>A zero input of one example for the model's first input (symbolic dimensions taken as 1; token ids 0).</summary>
    public static TorchSharp.torch.Tensor ExampleInput(GraphModule model)
    {
        RequireInputs(model);
        var input = model.Graph.Inputs[0];
        if (input.Shape is null) throw new ArgumentException($"the model's input '{input.Name}' has no shape; cannot count MACs");
        long[] shape = input.Shape.Select(d => d.Size ?? 1).ToArray();
        var type = input.ElementType == DataType.Int64 ? TorchSharp.torch.int64 : TorchSharp.torch.float32;
        MemoryGuard.Check(new[] { (input.Name, (IReadOnlyList<long>)shape, type) });
        return TorchSharp.torch.zeros(shape, dtype: type);
    }

    /// <summary>
    /// <paramref name="count"/> seeded random examples for every input of <paramref name="model"/> (a symbolic first
    /// dimension taken as <paramref name="count"/>, later ones as <paramref name="length"/>): standard normal floats, or token ids drawn
    /// uniformly from the rows of the smallest embedding table that an int64 input indexes (token ids, token types), ones for
    /// an int64 input that indexes none (an attention mask).
    /// </summary>
    public static TorchSharp.torch.Tensor[] RandomInputs(GraphModule model, int count, int length, long seed)
    {
        RequireInputs(model);
        foreach (var input in model.Graph.Inputs)
            if (input.Shape is null) throw new ArgumentException($"the model's input '{input.Name}' has no shape; give --data");
        long[] Shape(ValueInfo input) => input.Shape!.Select((d, i) => d.Size ?? (i == 0 ? count : length)).ToArray();
        MemoryGuard.Check(model.Graph.Inputs.Select(i => (i.Name, (IReadOnlyList<long>)Shape(i), i.ElementType == DataType.Float ? TorchSharp.torch.float32 : TorchSharp.torch.int64)));
        using var generator = new TorchSharp.torch.Generator((ulong)seed);
        return model.Graph.Inputs.Select(input =>
        {
            long[] shape = Shape(input);
            if (input.ElementType == DataType.Float) return TorchSharp.torch.randn(shape, generator: generator);
            if (input.ElementType != DataType.Int64)
                throw new ArgumentException($"cannot make up values for the model's {input.ElementType} input '{input.Name}'; give --data");
            return IndexedRows(model.Graph, input.Name) is long rows
                ? TorchSharp.torch.randint(0, rows, shape, generator: generator, dtype: TorchSharp.torch.int64)
                : TorchSharp.torch.ones(shape, dtype: TorchSharp.torch.int64);
        }).ToArray();
    }

    /// <summary>The rows of the smallest constant table that a Gather indexes with <paramref name="input"/>, or null.</summary>
    static long? IndexedRows(Graph.Graph graph, string input) =>
        graph.Nodes.Where(n => n.OpType == "Gather" && n.Inputs.Count == 2 && n.Inputs[1] == input && graph.Initializers.ContainsKey(n.Inputs[0]))
            .Select(n => (long?)graph.Initializers[n.Inputs[0]].shape[0]).Min();
}
