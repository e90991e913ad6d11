using System.CommandLine;
using PruneSharp.Engine;
using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Pruning;
using PruneSharp.Training;

namespace PruneSharp.Cli;

/// <summary>Runs the parsed command and turns expected failures into one clear line and a non-zero exit code.</summary>
static class CommandRunner
{
    public static int Run(RootCommand root, string[] args)
    {
        try
        {
            // Exceptions reach the mapping below rather than System.CommandLine's handler, which prints stack traces.
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (UserMessage(e) is { } message)
        {
            Console.Error.WriteLine($"prunesharp: {message.ReplaceLineEndings(" ")}");
            return 1;
        }
    }

    static string? UserMessage(Exception e) => e switch
    {
        EngineUnavailableException => e.Message,
        GraphException => e.Message, // bad models: OnnxFormatException, UnsupportedOpException, ONNX Runtime refusals
        DataException or PruningException or CheckpointException or TrainingDivergedException => e.Message,
        Llm.Checkpoints.CheckpointFormatException or Llm.Models.DecoderModelException => e.Message, // language-model checkpoints
        TypeInitializationException { InnerException: { } inner } => UserMessage(inner),
        IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException => e.Message,
        _ => null,
    };
}
