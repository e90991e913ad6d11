using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Pipelines;

namespace PruneSharp.Cli.Commands;

/// <summary>How the commands read <c>--model</c> and <c>--data</c>.</summary>
static class CliInputs
{
    public const string DataHelp = Sources.DataHelp;

    /// <summary>The <paramref name="split"/> of the data set <paramref name="spec"/> (<see cref="Sources.LoadData"/>).</summary>
    public static ImageDataset LoadData(string spec, DataSplit split, Preprocessing? sizes = null) => Sources.LoadData(spec, split, sizes);

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
