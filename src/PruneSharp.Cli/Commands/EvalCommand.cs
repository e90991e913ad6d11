using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Onnx;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Cli.Commands;

/// <summary><c>prunesharp eval</c>: top-1, top-5 and mean loss of an ONNX classifier on a data set's test split, or held-out perplexity of a language model.</summary>
static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX classifier." };
        var data = new Option<string>("--data") { Description = CliInputs.DataHelp + ", or a text file (a language model)", DefaultValueFactory = _ => "fashion-mnist" };
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per forward pass.", DefaultValueFactory = _ => 256 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var languageModel = new LanguageModelFlags();
        var preprocessing = new PreprocessingFlags(canEmbed: false);
        var command = new Command("eval",
            "Evaluate a classifier on the test split, or a language model's perplexity on the held-out end of a text file.\n" +
            "Images are fed as pixels scaled to [0, 1], normalised with --normalize (or the model's metadata) when given.\n" +
            "Example: prunesharp eval lenet5.onnx --data fashion-mnist\nExample: prunesharp eval cnn.onnx --data fashion-mnist --normalize 0.2860/0.3530\n" +
            "Example: prunesharp eval gpt.onnx --data kjv.txt --context 128")
        {
            model, data, batchSize, json, languageModel.Context, languageModel.HeldOut, languageModel.Tokenizer, preprocessing.Normalize, preprocessing.Resize, preprocessing.Crop,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(batchSize) <= 0) throw new ArgumentException($"--batch-size must be positive, got {parse.GetValue(batchSize)}");
            var file = parse.GetValue(model)!;
            if (!file.Exists) throw new ArgumentException($"model file not found: {file.FullName}");
            if (LanguageModelFlags.IsText(parse.GetValue(data)!))
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

    public static void Print(ClassificationMetrics m) =>
        Console.WriteLine($"test: top-1 {TrainCommand.Percent(m.Top1)}  top-5 {TrainCommand.Percent(m.Top5)}  loss {m.Loss.ToString("F4", CultureInfo.InvariantCulture)}  ({m.Count} examples)");
}
