using PruneSharp.Data;
using PruneSharp.Graph;
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
        bool idx = Directory.EnumerateFiles(spec).Select(Path.GetFileName).Any(f => f!.StartsWith("train-labels", StringComparison.Ordinal) || f!.StartsWith("t10k-labels", StringComparison.Ordinal));
        return idx ? IdxImages.Load(spec, split, IdxImages.DigitClasses) : CifarBinary.LoadCifar10(split, spec);
    }

    /// <summary>
    /// The model <paramref name="spec"/>: an ONNX file, or a zoo name built for the images and classes of
    /// <paramref name="data"/> (1×28×28, 10 classes without data).
    /// </summary>
    public static GraphModule LoadModel(string spec, ImageDataset? data, long seed = 0)
    {
        if (File.Exists(spec) || spec.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return OnnxFile.Load(spec);
        if (!ModelZoo.IsClassifier(spec))
            throw new ArgumentException($"--model '{spec}' is neither an ONNX file nor a zoo classifier ({string.Join(", ", ModelZoo.ClassifierNames)})");
        var options = data is null ? new ClassifierOptions(Seed: seed)
            : new ClassifierOptions(data.Channels, data.Height, data.Classes.Count, seed);
        if (data is not null && data.Height != data.Width)
            throw new ArgumentException($"zoo models take square images; the data has {data.Height}x{data.Width}");
        return ModelZoo.CreateClassifier(spec, options);
    }

    /// <summary>A zero input of one example for the model's first input (symbolic dimensions taken as 1).</summary>
    public static TorchSharp.torch.Tensor ExampleInput(GraphModule model)
    {
        var input = model.Graph.Inputs[0];
        if (input.Shape is null) throw new ArgumentException($"the model's input '{input.Name}' has no shape; cannot count MACs");
        return TorchSharp.torch.zeros(input.Shape.Select(d => d.Size ?? 1).ToArray());
    }
}
