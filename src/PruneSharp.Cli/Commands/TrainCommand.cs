using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Onnx;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp train</c>: trains a zoo model or an ONNX model on an image data set and writes the trained ONNX model.
/// Ctrl+C stops before the next batch, writes a checkpoint and exits; <c>--resume</c> continues from it.
/// </summary>
static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A zoo classifier (e.g. lenet-5) or an ONNX file.", Required = true };
        var data = new Option<string>("--data") { Description = CliInputs.DataHelp, DefaultValueFactory = _ => "fashion-mnist" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train.", DefaultValueFactory = _ => 10 };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the trained ONNX model.", Required = true };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file (default: OUTPUT.ckpt), written every epoch and on Ctrl+C." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var flags = new TrainingFlags();
        var command = new Command("train",
            "Train a classifier and save it as ONNX.\nExample: prunesharp train --model lenet-5 --data fashion-mnist --epochs 5 -o lenet5.onnx")
        {
            model, data, epochs, output, checkpoint, resume, json,
        };
        foreach (var option in flags.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            string outputPath = Path.GetFullPath(parse.GetValue(output)!);
            string checkpointPath = Path.GetFullPath(parse.GetValue(checkpoint) ?? outputPath + ".ckpt");
            var train = CliInputs.LoadData(parse.GetValue(data)!, DataSplit.Train);
            var test = CliInputs.LoadData(parse.GetValue(data)!, DataSplit.Test);
            var options = flags.Options(parse, parse.GetValue(epochs), train.Count, checkpointPath);
            using var network = CliInputs.LoadModel(parse.GetValue(model)!, train, options.Seed);
            using var trainer = new Trainer(network, options) { Progress = new ProgressBar("train") };
            if (parse.GetValue(resume))
            {
                if (!File.Exists(checkpointPath)) throw new ArgumentException($"--resume: no checkpoint at {checkpointPath}");
                trainer.LoadCheckpoint(checkpointPath);
                ProgressBar.Status($"resuming from {checkpointPath} at epoch {trainer.Position.Epoch + 1}, batch {trainer.Position.Batch}");
            }
            var result = WithCtrlC(token => trainer.Fit(train, token));
            if (result.Cancelled)
            {
                Console.Error.WriteLine();
                Console.Error.WriteLine($"prunesharp: interrupted at epoch {result.Position.Epoch + 1}, batch {result.Position.Batch}; checkpoint saved to {checkpointPath} (continue with --resume)");
                return 130;
            }
            var metrics = Evaluator.Classify(network, test);
            OnnxFile.Save(network, outputPath);
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(new { output = outputPath, epochs = options.Epochs, steps = result.Position.Step, test = metrics }, Table.Json));
            else
            {
                Console.WriteLine($"saved {outputPath}");
                EvalCommand.Print(metrics);
            }
            return 0;
        });
        return command;
    }

    /// <summary>Runs <paramref name="work"/> with a token that Ctrl+C signals (instead of killing the process).</summary>
    public static T WithCtrlC<T>(Func<CancellationToken, T> work)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler handler = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += handler;
        try
        {
            return work(cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= handler;
        }
    }

    public static string Percent(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
