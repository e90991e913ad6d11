using System.CommandLine;
using PruneSharp.Cli.Commands;
using PruneSharp.Pipelines;

namespace PruneSharp.Cli;

/// <summary>
/// <c>--quiet</c> and <c>--verbose</c>, given to every verb. Quiet: standard output holds only the verb's result
/// line (the one it names with <see cref="Summary"/>, else the last line it printed; <c>--json</c> output whole),
/// standard error only errors and warnings: no progress bars, no status lines. Verbose: status lines carry the time
/// since the verb began, and pipelines report each stage's timing.
/// </summary>
static class Verbosity
{
    static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print only errors and the final result line.", Recursive = true };
    static readonly Option<bool> Verbose = new("--verbose") { Description = "Also print timings: each status line stamped with the time since start, each pipeline stage's duration.", Recursive = true };

    static bool _quiet, _verbose;
    static TextWriter? _out;
    static string? _summary;
    static readonly System.Diagnostics.Stopwatch Clock = new();

    /// <summary>Whether progress and status lines are left out.</summary>
    public static bool IsQuiet => _quiet;

    /// <summary>Gives <paramref name="root"/> and its verbs the two options (once).</summary>
    public static void Attach(Command root)
    {
        if (!root.Options.Contains(Quiet)) root.Options.Add(Quiet);
        if (!root.Options.Contains(Verbose)) root.Options.Add(Verbose);
    }

    /// <summary>Reads the options of <paramref name="parse"/> and, when quiet, holds back standard output until <see cref="End"/>.</summary>
    /// <exception cref="ArgumentException">Both given.</exception>
    public static void Begin(ParseResult parse)
    {
        _quiet = parse.GetValue(Quiet);
        _verbose = parse.GetValue(Verbose);
        _summary = null;
        _out = null;
        Clock.Restart();
        if (_quiet && _verbose) throw new ArgumentException("--quiet and --verbose contradict each other: give one");
        if (_quiet && !parse.Tokens.Any(t => t.Value == "--json"))
        {
            _out = Console.Out;
            Console.SetOut(new StringWriter());
        }
    }

    /// <summary>Names the verb's result line: the one line that <c>--quiet</c> prints (otherwise ignored: the full output holds it).</summary>
    public static void Summary(string line) => _summary = line;

    /// <summary>Gives standard output back; when quiet, prints the result line.</summary>
    public static void End()
    {
        if (_out is null) return;
        string held = Console.Out.ToString() ?? "";
        Console.SetOut(_out);
        _out = null;
        string? line = _summary ?? held.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (line is not null) Console.WriteLine(line);
        _quiet = false;
    }

    /// <summary>Writes a status line to standard error (nothing when quiet; stamped with the elapsed time when verbose).</summary>
    public static void Status(string message)
    {
        if (_quiet) return;
        Console.Error.WriteLine(_verbose ? $"[{Clock.Elapsed.TotalSeconds,7:F1} s] {message}" : message);
    }

    /// <summary>Writes a detail line (timings) to standard error, only when verbose.</summary>
    public static void Detail(string message)
    {
        if (_verbose) Status(message);
    }

    /// <summary>Progress bars for each training run, status lines and, when verbose, timings: what a pipeline reports.</summary>
    public static PipelineProgress Progress => new(label => new ProgressBar(label), new Lines(Status), _verbose ? new Lines(Detail) : null,
        new Lines(warning => Console.Error.WriteLine($"prunesharp: warning: {warning}")));

    /// <summary>Lines written at once (unlike <see cref="Progress{T}"/>, which posts to the thread pool).</summary>
    sealed class Lines(Action<string> write) : IProgress<string>
    {
        public void Report(string value) => write(value);
    }
}
