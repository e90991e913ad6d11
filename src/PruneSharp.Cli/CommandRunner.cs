using System.CommandLine;
using System.Runtime.InteropServices;
using PruneSharp.Engine;
using PruneSharp.Data;
using PruneSharp.Files;
using PruneSharp.Graph;
using PruneSharp.Pruning;
using PruneSharp.Training;

namespace PruneSharp.Cli;

/// <summary>Runs the parsed command and turns expected failures into one clear line and a non-zero exit code.</summary>
static class CommandRunner
{
    public static int Run(Command root, string[] args)
    {
        OptionRules.Attach(root);
        Verbosity.Attach(root);
        try
        {
            var parse = root.Parse(args);
            // Bad arguments: one line each (no verb at all still gets the usage text, and --help its help).
            if (parse.Errors.Count > 0 && args.Length > 0 && !args.Any(a => a is "--help" or "-h" or "-?"))
            {
                foreach (var error in parse.Errors) Console.Error.WriteLine($"prunesharp: {OptionRules.Explain(error.Message)}");
                return 1;
            }
            Verbosity.Begin(parse);
            // Exceptions reach the mapping below rather than System.CommandLine's handler, which prints stack traces.
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine("prunesharp: interrupted; nothing half-written was left");
            return Interruption.ExitCode;
        }
        catch (Exception e) when (UserMessage(e) is { } message)
        {
            Console.Error.WriteLine($"prunesharp: {message.ReplaceLineEndings(" ")}");
            return 1;
        }
        finally
        {
            Verbosity.End();
        }
    }

    static string? UserMessage(Exception e) => e switch
    {
        EngineUnavailableException => e.Message,
        GraphException => e.Message, // bad models: OnnxFormatException, UnsupportedOpException, ONNX Runtime refusals, TensorTooLargeException
        Runs.RunStoreException => e.Message,
        DataException or PruningException or CheckpointException or TrainingDivergedException or RunStateException => e.Message,
        Llm.Checkpoints.CheckpointFormatException or Llm.Models.DecoderModelException => e.Message, // language-model checkpoints
        Compression.PszFormatException => e.Message, // damaged .psz files
        TypeInitializationException { InnerException: { } inner } => UserMessage(inner),
        IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException => e.Message,
        // libtorch's own errors (c10::Error) arrive as ExternalException with its C++ backtrace: keep the first line.
        ExternalException => $"libtorch failed: {FirstLine(e.Message)}",
        OutOfMemoryException => "out of memory; use a smaller model, batch or input shape",
        _ => null,
    };

    static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? text;
}
