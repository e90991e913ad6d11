using System.CommandLine;
using PruneSharp.Cli;

namespace PruneSharp.Tests.Support;

/// <summary>Runs commands in-process as the CLI does, capturing standard output and error.</summary>
public static class CliInvocation
{
    /// <summary>The exit code and what the command printed.</summary>
    public static (int Code, string Output, string Error) Run(Command root, string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            return (CommandRunner.Run(root, args), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }
}
