using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Compression;
using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Graph.Passes;
using PruneSharp.Onnx;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp compress</c>: Deep Compression of an (already pruned) ONNX model into a <c>.psz</c> file: k-means
/// weight sharing per layer, optional centroid fine-tuning, relative indices and Huffman coding; prints the size of
/// every layer at each stage and, with <c>--data</c>, test accuracy before and after.
/// </summary>
static class CompressCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model, usually pruned (zeros in its weights)." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the .psz file.", Required = true };
        var bits = new Option<string>("--bits") { Description = "Bits per shared weight (2^bits clusters), per layer kind: conv=B,fc=B.", DefaultValueFactory = _ => "conv=8,fc=5" };
        var indexBits = new Option<string>("--index-bits") { Description = "Width of the relative indices between non-zero weights, per layer kind: conv=B,fc=B.", DefaultValueFactory = _ => "conv=8,fc=5" };
        var epochs = new Option<int>("--finetune-epochs") { Description = "Epochs of centroid fine-tuning on --data's training split (0: none).", DefaultValueFactory = _ => 0 };
        var data = new Option<string?>("--data") { Description = CliInputs.DataHelp + "; needed for fine-tuning, and when given, test accuracy is reported." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var flags = new TrainingFlags();
        // The cluster gradients are sums over many weights: a step of plain SGD at the usual rate overshoots.
        flags.Optimizer.DefaultValueFactory = _ => "adam";
        flags.LearningRate.DefaultValueFactory = _ => 1e-4;
        var preprocessing = new PreprocessingFlags(canEmbed: false);
        var command = new Command("compress",
            "Deep Compression (Han et al. 2016) of a pruned ONNX model into a .psz file: weight sharing by k-means per layer,\n" +
            "optional centroid fine-tuning, sparse storage with relative indices, Huffman coding. Ratios are dense float32\n" +
            "bytes of all parameters / compressed bytes. `prunesharp decompress` gives back the shared-weight ONNX model.\n" +
            "Example: prunesharp compress lenet300-pruned.onnx --bits conv=8,fc=5 -o lenet300.psz\n" +
            "Example: prunesharp compress lenet5-pruned.onnx --finetune-epochs 1 --data fashion-mnist -o lenet5.psz")
        {
            model, output, bits, indexBits, epochs, data, json,
        };
        foreach (var option in flags.All) command.Options.Add(option);
        foreach (var option in preprocessing.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var file = parse.GetValue(model)!;
            if (!file.Exists) throw new ArgumentException($"model file not found: {file.FullName}");
            var (convBits, fcBits) = ParseBits(parse.GetValue(bits)!, "--bits");
            var (convIndex, fcIndex) = ParseBits(parse.GetValue(indexBits)!, "--index-bits");
            var options = new CompressionOptions { ConvolutionBits = convBits, FullyConnectedBits = fcBits, ConvolutionIndexBits = convIndex, FullyConnectedIndexBits = fcIndex };
            options.Validate();
            int fineTuneEpochs = parse.GetValue(epochs);
            string? dataSpec = parse.GetValue(data);
            if (fineTuneEpochs > 0 && dataSpec is null) throw new ArgumentException("--finetune-epochs needs --data (the training set)");
            string outputPath = Path.GetFullPath(parse.GetValue(output)!);

            var graph = OnnxFile.Read(file.FullName);
            InitializerCopies.Materialize(graph);
            ImageDataset? train = null, test = null;
            CentroidTraining? training = null;
            if (dataSpec is not null)
            {
                using var probe = new GraphModule(graph);
                var fed = preprocessing.Resolve(parse, probe, file.FullName);
                test = CliInputs.LoadData(dataSpec, DataSplit.Test, preprocessing.Sizes(parse));
                if (fineTuneEpochs > 0)
                {
                    train = flags.TrainingData(parse, dataSpec, preprocessing.Sizes(parse));
                    training = new CentroidTraining(train, flags.Options(parse, fineTuneEpochs, train.Count), new ProgressBar("fine-tune centroids"));
                }
                PreprocessingFlags.Apply(fed, train, test);
            }
            var result = TrainCommand.WithCtrlC(token => DeepCompression.Compress(graph, outputPath, options, training, token));
            var accuracy = test is null ? null : new
            {
                input = Accuracy(graph, test),
                shared = Accuracy(result.Shared.Graph, test),
                fine_tuned = result.Training is null ? (double?)null : Accuracy(result.Final.Graph, test),
            };
            var report = result.Report;
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    model = file.FullName, output = outputPath, ratio = report.Ratio, file_ratio = report.FileRatio,
                    original_bytes = report.OriginalBytes, pruned_bytes = report.PrunedBytes, quantized_bytes = report.QuantizedBytes,
                    huffman_bytes = report.HuffmanBytes, file_bytes = report.FileBytes, other_bytes = report.OtherBytes,
                    layers = report.Layers.Select(l => new
                    {
                        name = l.Name, kind = Kind(l.Kind), weights = l.Weights, kept = l.Kept, entries = l.Entries, clusters = l.Clusters,
                        bits = l.Bits, index_bits = l.IndexBits, original_bytes = l.OriginalBytes, pruned_bytes = l.PrunedBytes,
                        quantized_bytes = l.QuantizedBytes, huffman_bytes = l.HuffmanBytes,
                    }),
                    accuracy,
                }, Table.Json));
                return 0;
            }
            Print(report);
            Console.WriteLine($"saved {outputPath}");
            if (accuracy is not null)
                Console.WriteLine($"test top-1: input {TrainCommand.Percent(accuracy.input)}, shared {TrainCommand.Percent(accuracy.shared)}" +
                    (accuracy.fine_tuned is { } tuned ? $", after centroid fine-tuning {TrainCommand.Percent(tuned)}" : ""));
            return 0;
        });
        return command;
    }

    /// <summary>Reads <c>conv=B,fc=B</c> (either part may be left out: it keeps the paper's default, 8 for conv and 5 for fc).</summary>
    public static (int Conv, int Fc) ParseBits(string text, string flag)
    {
        int conv = 8, fc = 5;
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (pieces.Length != 2 || !int.TryParse(pieces[1], NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value is < 1 or > 16)
                throw new ArgumentException($"{flag}: '{part}' is not KIND=BITS with BITS from 1 to 16 (e.g. conv=8,fc=5)");
            switch (pieces[0].ToLowerInvariant())
            {
                case "conv": conv = value; break;
                case "fc": fc = value; break;
                default: throw new ArgumentException($"{flag}: unknown layer kind '{pieces[0]}' (conv or fc)");
            }
        }
        return (conv, fc);
    }

    static string Kind(LayerKind kind) => kind == LayerKind.Convolution ? "conv" : "fc";

    static double Accuracy(Graph.Graph graph, ImageDataset test)
    {
        using var network = new GraphModule(graph);
        return Evaluator.Classify(network, test).Top1;
    }

    static void Print(CompressionReport report)
    {
        static string K(long bytes) => (bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KiB";
        static string X(double ratio) => ratio.ToString("F1", CultureInfo.InvariantCulture) + "x";
        var rows = report.Layers.Select(l => (IReadOnlyList<string>)new[]
        {
            l.Name, Kind(l.Kind), $"{l.Kept}/{l.Weights}", $"{l.Bits}/{l.IndexBits}", l.Clusters.ToString(CultureInfo.InvariantCulture),
            K(l.OriginalBytes), K(l.PrunedBytes), K(l.QuantizedBytes), K(l.HuffmanBytes), X((double)l.OriginalBytes / l.HuffmanBytes),
        }).ToList();
        rows.Add(new[] { "other parameters", "fp32", "-", "-", "-", K(report.OtherBytes), K(report.OtherBytes), K(report.OtherBytes), K(report.OtherBytes), "1.0x" });
        rows.Add(new[] { "total", "", "", "", "", K(report.OriginalBytes), K(report.PrunedBytes), K(report.QuantizedBytes), K(report.HuffmanBytes), X(report.Ratio) });
        Table.Write(Console.Out, new[] { "layer", "kind", "non-zero", "bits/index", "clusters", "original", "pruned", "quantised", "huffman", "ratio" }, rows);
        Console.WriteLine($"ratio = dense float32 bytes of all parameters / compressed bytes: {X(report.Ratio)} " +
            $"(pruned {X((double)report.OriginalBytes / report.PrunedBytes)}, quantised {X((double)report.OriginalBytes / report.QuantizedBytes)}); " +
            $".psz file {K(report.FileBytes)} with the graph and checksums: {X(report.FileRatio)}");
    }
}
