using System.CommandLine;
using PruneSharp.Engine;

namespace PruneSharp.Cli;

/// <summary>Runs the parsed command and turns expected failures into one clear line and a non-zero exit code.</summary>
static class CommandRunner
{
    public static int Run(RootCommand root, string[] args)
    {
        try
        {
            return root.Parse(args).Invoke();
        }
        catch (Exception e) when (UserMessage(e) is { } message)
        {
            Console.Error.WriteLine($"prunesharp: {message}");
            return 1;
        }
    }

    static string? UserMessage(Exception e) => e switch
    {
        EngineUnavailableException => e.Message,
        TypeInitializationException { InnerException: { } inner } => UserMessage(inner),
        FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException => e.Message,
        _ => null,
    };
}
