using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Runs;
using PruneSharp.Data;
using PruneSharp.Files;
using PruneSharp.Graph;
using PruneSharp.Metrics;
using PruneSharp.Onnx;
using PruneSharp.Pruning.Methods;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp train</c>: trains a zoo model or an ONNX model on an image data set (a classifier) or a text file
/// (a language model) and writes the trained ONNX model; <c>--at-init</c> (<see cref="AtInitFlags"/>) prunes the
/// classifier before training and keeps the mask, so the written model carries the zeros.
/// Ctrl+C or SIGTERM stops before the next batch, writes a checkpoint and exits (130, 143); <c>--resume</c> continues from it.
/// </summary>
static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A zoo classifier (e.g. lenet-5) or an ONNX file.", Required = true };
        var data = new Option<string>("--data") { Description = CliInputs.DataHelp + ", or a text file (a language model)", DefaultValueFactory = _ => "fashion-mnist" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train.", DefaultValueFactory = _ => 10 };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the trained ONNX model.", Required = true };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file (default: OUTPUT.ckpt), written every epoch and on Ctrl+C." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var flags = new TrainingFlags();
        var preprocessing = new PreprocessingFlags(canEmbed: true);
        var command = new Command("train",
            "Train a classifier (image data) or a language model (--data FILE.txt) and save it as ONNX.\n" +
            "Example: prunesharp train --model lenet-5 --data fashion-mnist --epochs 5 -o lenet5.onnx\n" +
            "Example: prunesharp train --model conv-6 --at-init synflow --sparsity 0.99 --epochs 2 -o conv6-synflow.onnx\n" +
            "Example: prunesharp train --model tiny-gpt --data kjv.txt --epochs 1 --optimizer adamw --lr 3e-3 -o gpt.onnx")
        {
            model, data, epochs, output, checkpoint, resume, json,
        };
        foreach (var option in flags.All) command.Options.Add(option);
        foreach (var option in preprocessing.All) command.Options.Add(option);
        var languageModel = new LanguageModelFlags();
        foreach (var option in languageModel.All) command.Options.Add(option);
        // One --sparsity for the three ways train makes a model sparse (at initialisation, dynamic sparse training, network surgery).
        var sparsity = new Option<double?>("--sparsity") { Description = "Fraction of the layers' weights that are zero: pruned at initialisation (--at-init), kept fixed (--sparse-training) or reached (--network-surgery)." };
        command.Options.Add(sparsity);
        var atInit = new AtInitFlags(sparsity);
        foreach (var option in atInit.All) command.Options.Add(option);
        var sparse = new SparseTrainingFlags(sparsity);
        foreach (var option in sparse.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            string outputPath = Path.GetFullPath(parse.GetValue(output)!);
            string checkpointPath = Path.GetFullPath(parse.GetValue(checkpoint) ?? outputPath + ".ckpt");
            string dataSpec = parse.GetValue(data)!, modelSpec = parse.GetValue(model)!;
            bool asJson = parse.GetValue(json), resuming = parse.GetValue(resume);
            if (LanguageModelFlags.IsText(dataSpec))
            {
                preprocessing.RefuseForText(parse);
                atInit.RefuseForText(parse);
                sparse.RefuseForText(parse);
            }
            var atInitOptions = atInit.Options(parse, parse.GetValue(flags.Seed));
            if (atInitOptions is not null && (parse.GetValue(sparse.SparseTraining) is not null || parse.GetValue(sparse.NetworkSurgery)))
                throw new ArgumentException("--at-init fixes the mask before training; --sparse-training and --network-surgery change it while training: choose one");
            if (parse.GetValue(sparsity) is not null && atInitOptions is null && parse.GetValue(sparse.SparseTraining) is null && !parse.GetValue(sparse.NetworkSurgery))
                throw new ArgumentException("--sparsity needs --at-init, --sparse-training or --network-surgery");
            if (LanguageModelFlags.IsText(dataSpec))
                return TrainLanguageModel(parse, languageModel, flags, modelSpec, dataSpec, parse.GetValue(epochs), outputPath, checkpointPath, resuming, asJson);

            var train = flags.TrainingData(parse, dataSpec, preprocessing.Sizes(parse));
            var test = CliInputs.LoadData(dataSpec, DataSplit.Test, preprocessing.Sizes(parse));
            var options = flags.Options(parse, parse.GetValue(epochs), train.Count, checkpointPath);
            using var network = CliInputs.LoadModel(modelSpec, train, options.Seed);
            var fed = preprocessing.Resolve(parse, network, modelSpec);
            PreprocessingFlags.Apply(fed, train, test);
            var trainable = options.Trainable.Select(network);
            options = options with { Fingerprint = Fingerprint(parse, network, train) };
            var pruned = atInitOptions is null ? default : atInit.Prune(parse, atInitOptions, network, train, options);
            using var masks = pruned.Masks;
            if (pruned.Result is { } atInitResult) AtInitFlags.Warn(atInitResult);
            using var plan = sparse.Plan(parse, network, options, train.Count);
            var callbacks = masks is null ? plan.Callbacks : [new MaskedTraining(masks), .. plan.Callbacks];
            if (Fit(network, options, train, checkpointPath, resuming, callbacks) is not { } result) return Interruption.ExitCode;
            masks?.MakePermanent();
            var metrics = Evaluator.Classify(network, test);
            var written = preprocessing.Save(parse, network, fed, outputPath);
            var layers = SparsityReport.Measure(network).Layers;
            RunRecording.Finish([.. RunMetrics.Quality(metrics), .. RunMetrics.Size(layers)], layers, ("model", outputPath), ("checkpoint", checkpointPath));
            if (asJson)
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    output = outputPath, epochs = options.Epochs, steps = result.Position.Step, test = metrics,
                    input = PreprocessingFlags.Json(fed), output_input = PreprocessingFlags.Json(written), training = TrainingFlags.Json(trainable),
                    at_init = pruned.Result is { } r ? AtInitFlags.Json(r) : null,
                    sparse_training = plan.Json(network),
                }, Table.Json));
            else
            {
                Console.WriteLine($"saved {outputPath}");
                PreprocessingFlags.Print(fed);
                if (written != fed) Console.WriteLine($"output model: {written.Describe()}");
                Console.WriteLine($"training {TrainingFlags.Describe(trainable)}");
                if (pruned.Result is { } r) AtInitFlags.Print(r);
                plan.Print(network);
                EvalCommand.Print(metrics);
            }
            return 0;
        });
        RunRecording.Attach(command, "train", parse =>
            parse.GetValue(atInit.Method) is { } m ? $"at-init:{m}"
            : parse.GetValue(sparse.SparseTraining) is { } d ? $"sparse-training:{d}"
            : parse.GetValue(sparse.NetworkSurgery) ? "network-surgery"
            : parse.GetValue(sparse.Regularize) is { } r ? $"regularize:{r}"
            : "dense");
        return command;
    }

    /// <summary>
    /// Trains <paramref name="network"/> on <paramref name="train"/> (resuming from the checkpoint if asked), or returns
    /// null after Ctrl+C has saved a checkpoint.
    /// </summary>
    static TrainingResult? Fit(GraphModule network, TrainerOptions options, IDataset train, string checkpointPath, bool resume,
        IEnumerable<ITrainingCallback>? callbacks = null)
    {
        using var trainer = new Trainer(network, options) { Progress = new ProgressBar("train") };
        foreach (var callback in callbacks ?? []) trainer.Callbacks.Add(callback);
        if (resume)
        {
            if (!File.Exists(checkpointPath)) throw new ArgumentException($"--resume: no checkpoint at {checkpointPath}");
            trainer.LoadCheckpoint(checkpointPath);
            ProgressBar.Status($"resuming from {checkpointPath} at epoch {trainer.Position.Epoch + 1}, batch {trainer.Position.Batch}");
        }
        var result = WithCtrlC(token => trainer.Fit(train, token));
        if (!result.Cancelled) return result;
        Console.Error.WriteLine();
        Console.Error.WriteLine($"prunesharp: interrupted at epoch {result.Position.Epoch + 1}, batch {result.Position.Batch}; checkpoint saved to {checkpointPath} (continue with --resume)");
        return null;
    }

    /// <summary>
    /// What determines a training run's results: every option given or defaulted (but where the output goes and
    /// how it is shown), the hash of the model's initial weights and of the training data.
    /// </summary>
    static RunFingerprint Fingerprint(ParseResult parse, GraphModule network, IDataset train) =>
        new RunFingerprint(OptionValues.Of(parse, "--output", "--checkpoint", "--resume", "--json"))
            .With("model.hash", RunFingerprint.Hash(network)).With("data.hash", RunFingerprint.Hash(train));

    /// <summary>Trains a language model on a text corpus and reports held-out perplexity and training throughput in tokens/s.</summary>
    static int TrainLanguageModel(ParseResult parse, LanguageModelFlags lm, TrainingFlags flags, string modelSpec, string dataSpec, int epochs,
        string outputPath, string checkpointPath, bool resume, bool json)
    {
        var corpus = lm.Corpus(parse, dataSpec);
        int context = lm.ContextLength(parse);
        var train = corpus.TrainSequences(context);
        var options = flags.Options(parse, epochs, train.Count, checkpointPath);
        using var network = lm.Model(parse, modelSpec, corpus, options.Seed);
        options = options with { Fingerprint = Fingerprint(parse, network, train) };
        if (Fit(network, options, train, checkpointPath, resume) is not { } result) return Interruption.ExitCode;
        double seconds = result.Epochs.Sum(e => e.Elapsed.TotalSeconds);
        double tokensPerSecond = seconds > 0 ? result.Epochs.Sum(e => e.Samples) * (double)context / seconds : double.NaN;
        var perplexity = Evaluator.Perplexity(network, corpus.HeldOutTokens, context);
        OnnxFile.Save(network, outputPath);
        RunRecording.Finish([.. RunMetrics.Quality(null, perplexityAfter: perplexity), new("tokens_per_s", tokensPerSecond)], null,
            ("model", outputPath), ("checkpoint", checkpointPath));
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output = outputPath, epochs = options.Epochs, steps = result.Position.Step,
                trainTokens = corpus.TrainTokens.Length, tokensPerSecond, heldOut = perplexity,
            }, Table.Json));
        else
        {
            Console.WriteLine($"saved {outputPath}");
            Console.WriteLine($"training: {corpus.TrainTokens.Length} tokens, {tokensPerSecond.ToString("F0", CultureInfo.InvariantCulture)} tokens/s over the epochs run now");
            LanguageModelFlags.Print(perplexity);
        }
        return 0;
    }

    /// <summary>Runs <paramref name="work"/> with a token that Ctrl+C or SIGTERM signals (instead of killing the process).</summary>
    public static T WithCtrlC<T>(Func<CancellationToken, T> work) => Interruption.Run(work);

    public static string Percent(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
