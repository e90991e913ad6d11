using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Pipelines;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp train</c>: trains a zoo model or an ONNX model on an image data set (a classifier) or a text file
/// (a language model) and writes the trained ONNX model; <c>--at-init</c> (<see cref="AtInitFlags"/>) prunes the
/// classifier before training and keeps the mask, so the written model carries the zeros. The flags describe a
/// <see cref="TrainingDescription"/> that the library's <see cref="TrainingPipeline"/> runs and records; the verb renders the result.
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
        var store = new StoreFlags();
        foreach (var option in store.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var description = Description(parse, model, data, epochs, output, checkpoint, resume, sparsity, flags, preprocessing, languageModel, atInit, sparse);
            using var runs = store.Open(parse);
            var recording = runs is null ? null : new PipelineRecording(runs, RunRecording.Describe(parse, "train", TrainingPipeline.Method(description)));
            return Run(description, recording, parse.GetValue(json), Fields, "--resume");
        });
        return command;
    }

    /// <summary>
    /// Runs <paramref name="description"/> through the library with Ctrl+C and SIGTERM checkpointing and renders the
    /// result; the exit code (<see cref="Interruption.ExitCode"/> after an interruption, which says how to resume).
    /// </summary>
    /// <param name="description">The training run.</param>
    /// <param name="recording">Where it is recorded (null: nowhere).</param>
    /// <param name="json">Render as JSON.</param>
    /// <param name="fields">The flags that set the fields the library names in its errors (null: the fields as they are).</param>
    /// <param name="resume">How the user asks to resume.</param>
    public static int Run(TrainingDescription description, PipelineRecording? recording, bool json, IReadOnlyList<(string Field, string Flag)>? fields, string resume)
    {
        TrainingRunResult result;
        try
        {
            var run = () => WithCtrlC(token => TrainingPipeline.Run(description, Verbosity.Progress, token, recording));
            result = fields is null ? run() : FlagNames.Translate(run, fields);
        }
        catch (TrainingInterruptedException e)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"prunesharp: {e.Message} (continue with {resume})");
            return Interruption.ExitCode;
        }
        Render(result, json, fields ?? []);
        return 0;
    }

    /// <summary>
    /// The training run the flags describe. The flags that only make sense with another (<c>--sparsity</c> without a
    /// method, <c>--penalty</c> without <c>--regularize</c>, ...) are refused here; everything else the library checks.
    /// </summary>
    static TrainingDescription Description(ParseResult parse, Option<string> model, Option<string> data, Option<int> epochs, Option<string> output,
        Option<string?> checkpoint, Option<bool> resume, Option<double?> sparsity, TrainingFlags flags, PreprocessingFlags preprocessing,
        LanguageModelFlags languageModel, AtInitFlags atInit, SparseTrainingFlags sparse)
    {
        string dataSpec = parse.GetValue(data)!;
        var at = atInit.Description(parse);
        if (parse.GetValue(sparsity) is not null && at is null && parse.GetValue(sparse.SparseTraining) is null && !parse.GetValue(sparse.NetworkSurgery))
            throw new ArgumentException("--sparsity needs --at-init, --sparse-training or --network-surgery");
        bool text = Sources.IsText(dataSpec);
        var description = new TrainingDescription(parse.GetValue(model)!, preprocessing.Data(parse, dataSpec, flags.AugmentSpec(parse)),
            new ExportDescription(Path.GetFullPath(parse.GetValue(output)!), parse.GetValue(preprocessing.Embed), parse.GetValue(preprocessing.KeepOpset)),
            flags.Description(parse, parse.GetValue(epochs)), parse.GetValue(flags.Seed))
        {
            AtInit = at,
            Text = text ? languageModel.Description(parse) : null,
            Checkpoint = parse.GetValue(checkpoint) is { } path ? Path.GetFullPath(path) : null,
            Resume = parse.GetValue(resume),
            // Every option but where the output goes, where the run is recorded and how it is shown.
            Identity = OptionValues.Of(parse, "--output", "--checkpoint", "--resume", "--json", "--store", "--no-store").ToDictionary(),
        };
        return sparse.Describe(parse, description);
    }

    /// <summary>What the run did, as lines or as JSON.</summary>
    static void Render(TrainingRunResult r, bool json, IReadOnlyList<(string Field, string Flag)> fields)
    {
        if (r.HeldOut is { } perplexity)
        {
            if (json)
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    output = r.Output, epochs = r.Options.Epochs, steps = r.Training.Position.Step,
                    trainTokens = r.TrainTokens, tokensPerSecond = r.TokensPerSecond, heldOut = perplexity,
                }, Table.Json));
            else
            {
                Console.WriteLine($"saved {r.Output}");
                Console.WriteLine($"training: {r.TrainTokens} tokens, {r.TokensPerSecond!.Value.ToString("F0", CultureInfo.InvariantCulture)} tokens/s over the epochs run now");
                LanguageModelFlags.Print(perplexity);
            }
            return;
        }
        var (fed, written) = (FlagNames.Rewrite(r.Input!, fields), FlagNames.Rewrite(r.Written!, fields));
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                output = r.Output, epochs = r.Options.Epochs, steps = r.Training.Position.Step, test = r.Test,
                input = PreprocessingFlags.Json(fed), output_input = PreprocessingFlags.Json(written), training = TrainingFlags.Json(r.Trainable!),
                at_init = r.AtInit is { } a ? AtInitFlags.Json(a) : null,
                sparse_training = SparseTrainingFlags.Json(r.Sparse),
            }, Table.Json));
        else
        {
            Console.WriteLine($"saved {r.Output}");
            PreprocessingFlags.Print(fed);
            if (written != fed) Console.WriteLine($"output model: {written.Describe()}");
            Console.WriteLine($"training {TrainingFlags.Describe(r.Trainable!)}");
            if (r.AtInit is { } a) AtInitFlags.Print(a);
            SparseTrainingFlags.Print(r.Sparse);
            EvalCommand.Print(r.Test!);
        }
    }

    /// <summary>The flags that set each field of the run the verb describes (the library names the fields in its errors).</summary>
    static readonly (string Field, string Flag)[] Fields = new (string Field, string Flag)[]
    {
        ("training.at_init.method", "--at-init"), ("training.at_init.sparsity", "--sparsity"), ("training.at_init.batches", "--at-init-batches"),
        ("training.at_init.rounds", "--at-init-rounds"), ("training.at_init.scope", "--at-init-scope"), ("training.at_init", "--at-init"),
        ("training.regularize.kind", "--regularize"), ("training.regularize.penalty", "--penalty"), ("training.regularize.warmup", "--penalty-warmup"),
        ("training.regularize.group", "--group"), ("training.regularize", "--regularize"),
        ("training.sparse_training.method", "--sparse-training"), ("training.sparse_training.sparsity", "--sparsity"), ("training.sparse_training.update_every", "--update-every"),
        ("training.sparse_training.drop_fraction", "--drop-fraction"), ("training.sparse_training", "--sparse-training"),
        ("training.soft_filter_pruning", "--soft-filter-pruning"),
        ("training.network_surgery.sparsity", "--sparsity"), ("training.network_surgery.gamma", "--surgery-gamma"), ("training.network_surgery.power", "--surgery-power"),
        ("training.network_surgery.stop", "--surgery-stop"), ("training.network_surgery", "--network-surgery"),
        ("training.text.context", "--context"), ("training.text.layers", "--gpt-layers"), ("training.text.heads", "--gpt-heads"), ("training.text.width", "--gpt-width"),
        ("training.text.untied", "--gpt-untied"), ("training.text.held_out", "--held-out"), ("training.text.tokenizer", "--tokenizer"),
        ("training.checkpoint", "--checkpoint"), ("training.resume", "--resume"),
        ("data.source", "--data"), ("data.normalize", "--normalize"), ("data.resize", "--resize"), ("data.crop", "--crop"), ("data.augment", "--augment"),
        ("recovery.epochs", "--epochs"), ("recovery.batch_size", "--batch-size"), ("recovery.optimizer", "--optimizer"), ("recovery.lr_schedule", "--schedule"),
        ("recovery.lr", "--lr"), ("recovery.threads", "--threads"), ("export.embed_preprocessing", "--embed-preprocessing"), ("export.keep_opset", "--keep-opset"),
        ("export.path", "--output"), ("model", "--model"),
    }.OrderByDescending(f => f.Field.Length).ToArray();

    /// <summary>Runs <paramref name="work"/> with a token that Ctrl+C or SIGTERM signals (instead of killing the process).</summary>
    public static T WithCtrlC<T>(Func<CancellationToken, T> work) => Interruption.Run(work);

    public static string Percent(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
