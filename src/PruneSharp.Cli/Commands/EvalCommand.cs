using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Pipelines;
using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using PruneSharp.Recovery;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp eval</c>: top-1, top-5 and mean loss of an ONNX classifier on a data set's test split, or held-out
/// perplexity of a language model; with <c>--reference</c>, the fidelity of every output to the reference model's.
/// </summary>
static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX classifier." };
        var data = new Option<string>("--data") { Description = CliInputs.DataHelp + ", or a text file (a language model)", DefaultValueFactory = _ => "fashion-mnist" };
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per forward pass.", DefaultValueFactory = _ => 256 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var reference = new Option<FileInfo?>("--reference") { Description = "The dense model: compare every output with its (matched by name) on the data's inputs: cosine similarity, relative error, top-1 agreement of logits, rank correlation of pairwise similarities of embeddings." };
        var languageModel = new LanguageModelFlags();
        var preprocessing = new PreprocessingFlags(canEmbed: false);
        var command = new Command("eval",
            "Evaluate a classifier on the test split, or a language model's perplexity on the held-out end of a text file.\n" +
            "Images are fed as pixels scaled to [0, 1], normalised with --normalize (or the model's metadata) when given.\n" +
            "Example: prunesharp eval lenet5.onnx --data fashion-mnist\nExample: prunesharp eval cnn.onnx --data fashion-mnist --normalize 0.2860/0.3530\n" +
            "Example: prunesharp eval gpt.onnx --data kjv.txt --context 128\n" +
            "Example: prunesharp eval pruned.onnx --reference dense.onnx --data fashion-mnist")
        {
            model, data, batchSize, json, reference, languageModel.Context, languageModel.HeldOut, languageModel.Tokenizer, preprocessing.Normalize, preprocessing.Resize, preprocessing.Crop,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(batchSize) <= 0) throw new ArgumentException($"--batch-size must be positive, got {parse.GetValue(batchSize)}");
            var file = parse.GetValue(model)!;
            if (!file.Exists) throw new ArgumentException($"model file not found: {file.FullName}");
            if (parse.GetValue(reference) is { } dense)
            {
                bool unlabeled = Sources.IsUnlabeled(parse.GetValue(data)!, parse.GetValue(languageModel.Tokenizer)!);
                if (Sources.IsText(parse.GetValue(data)!) && !unlabeled)
                    throw new ArgumentException("--reference compares models on images or unlabeled inputs (.npz/.npy, text with --tokenizer wordpiece:FILE), not on a language model's text file");
                Compare(file, dense, parse.GetValue(data)!, parse.GetValue(batchSize), parse.GetValue(json), parse, preprocessing,
                    unlabeled ? network => Sources.LoadExamples(parse.GetValue(data)!, network, parse.GetValue(languageModel.Tokenizer)!, languageModel.ContextLength(parse),
                        preprocessing.Resolve(parse, network, file.FullName)) : null);
                return;
            }
            if (Sources.IsText(parse.GetValue(data)!))
            {
                preprocessing.RefuseForText(parse);
                var corpus = languageModel.Corpus(parse, parse.GetValue(data)!);
                using var languageNetwork = OnnxFile.Load(file.FullName);
                int context = languageModel.ContextLength(parse);
                using (var window = tensor(corpus.HeldOutTokens.Take(Math.Min(8, context)).Select(t => (long)t).ToArray()).reshape(1, -1))
                    if (EvaluationTask.WhyNotLanguageModel(languageNetwork, corpus.Tokenizer.VocabularySize, window) is { } why)
                        throw new ArgumentException($"eval: cannot measure perplexity: {why}; compare with the dense model with --reference for fidelity instead");
                var perplexity = Evaluator.Perplexity(languageNetwork, corpus.HeldOutTokens, languageModel.ContextLength(parse), batchSize: parse.GetValue(batchSize));
                if (Plausibility.Perplexity(perplexity, corpus.Tokenizer.VocabularySize) is { } warning) Console.Error.WriteLine($"prunesharp: warning: {warning}");
                if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(new { model = file.FullName, heldOut = perplexity }, Table.Json));
                else LanguageModelFlags.Print(perplexity);
                return;
            }
            var test = CliInputs.LoadData(parse.GetValue(data)!, DataSplit.Test, preprocessing.Sizes(parse));
            if (test.Classes is [ImageFolder.Unlabeled])
                throw new ArgumentException($"eval: cannot measure accuracy: the image folder '{parse.GetValue(data)}' has no class sub-folders, so no labels; compare with the dense model with --reference for fidelity instead");
            using var network = OnnxFile.Load(file.FullName);
            var fed = preprocessing.Resolve(parse, network, file.FullName);
            PreprocessingFlags.Apply(fed, test);
            using (var example = test.GetBatch(new[] { 0 }))
                if (EvaluationTask.WhyNotClassifier(network, test.Classes.Count, example.Inputs) is { } why)
                    throw new ArgumentException($"eval: cannot measure accuracy: {why}; compare with the dense model with --reference for fidelity instead");
            var metrics = Evaluator.Classify(network, test, parse.GetValue(batchSize));
            PreprocessingFlags.WarnIfImplausible(metrics, test.Classes.Count);
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(new { model = file.FullName, input = PreprocessingFlags.Json(fed), test = metrics }, Table.Json));
            else
            {
                PreprocessingFlags.Print(fed);
                Print(metrics);
            }
        });
        return command;
    }

    /// <summary>Fidelity of <paramref name="file"/> to <paramref name="dense"/> on the test split, and both accuracies where the output is a classifier's.</summary>
    /// <param name="unlabeled">Reads unlabeled examples for the model (<c>--data</c> of arrays, WordPiece text or images without classes); null for a labelled data set's test split.</param>
    static void Compare(FileInfo file, FileInfo dense, string dataSpec, int batchSize, bool json, ParseResult parse, PreprocessingFlags preprocessing,
        Func<GraphModule, IInputExamples>? unlabeled)
    {
        if (!dense.Exists) throw new ArgumentException($"--reference model file not found: {dense.FullName}");
        var test = unlabeled is null ? CliInputs.LoadData(dataSpec, DataSplit.Test, preprocessing.Sizes(parse)) : null;
        using var network = OnnxFile.Load(file.FullName);
        using var denseNetwork = OnnxFile.Load(dense.FullName);
        var fed = preprocessing.Resolve(parse, network, file.FullName);
        PreprocessingFlags.Apply(fed, test);
        var examples = unlabeled?.Invoke(network);
        bool images = examples is null or ImageExamples;
        IInputSource inputs = examples is null ? new DatasetInputs(test!) : new GraphFeed(network.Graph, examples);
        var outputs = Fidelity.Measure(network, denseNetwork, inputs, batchSize);
        bool classifier = test is not null && outputs is [{ Kind: OutputKind.Logits, Shape.Count: 2 }];
        var accuracy = classifier ? Evaluator.Classify(network, test!, batchSize) : null;
        var referenceAccuracy = classifier ? Evaluator.Classify(denseNetwork, test!, batchSize) : null;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model = file.FullName, reference = dense.FullName, input = images ? PreprocessingFlags.Json(fed) : null, examples = inputs.Count,
                outputs = outputs.Select(o => new
                {
                    name = o.Name, kind = o.Kind.ToString().ToLowerInvariant(), shape = o.Shape, mean_cosine = o.MeanCosine, min_cosine = o.MinCosine,
                    relative_error = o.RelativeError, top1_agreement = o.Top1Agreement, pairwise_spearman = o.PairwiseSpearman,
                }),
                accuracy = accuracy?.Top1, reference_accuracy = referenceAccuracy?.Top1,
            }, Table.Json));
            return;
        }
        if (images) PreprocessingFlags.Print(fed);
        static string F(double? x) => x is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";
        Table.Write(Console.Out, new[] { "output", "kind", "mean cosine", "min cosine", "relative error", "top-1 agreement", "pairwise Spearman" },
            outputs.Select(o => (IReadOnlyList<string>)new[] { o.Name, o.Kind.ToString().ToLowerInvariant(), F(o.MeanCosine), F(o.MinCosine), F(o.RelativeError), F(o.Top1Agreement), F(o.PairwiseSpearman) }));
        Console.WriteLine($"against {dense.FullName} on {inputs.Count} {(test is null ? "unlabeled" : "test")} inputs (labels unused)");
        if (accuracy is not null && referenceAccuracy is not null)
            Console.WriteLine($"top-1 accuracy: model {TrainCommand.Percent(accuracy.Top1)}, reference {TrainCommand.Percent(referenceAccuracy.Top1)}");
    }

    public static void Print(ClassificationMetrics m) =>
        Console.WriteLine($"test: top-1 {TrainCommand.Percent(m.Top1)}  top-5 {TrainCommand.Percent(m.Top5)}  loss {m.Loss.ToString("F4", CultureInfo.InvariantCulture)}  ({m.Count} examples)");
}
