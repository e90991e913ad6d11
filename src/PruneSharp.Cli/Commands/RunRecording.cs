using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using PruneSharp.Metrics;
using PruneSharp.Runs;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// Records a verb's run in a run store: <see cref="Attach"/> gives the verb <c>--store</c> and <c>--no-store</c> and
/// wraps its action, so that a run is begun before the verb's work (its options, model, data, seed and target
/// sparsity read from the options by name) and ended after it: completed with the outcome the verb handed to
/// <see cref="Finish"/>, or failed with the error or exit code. Epoch ends reported to <see cref="ProgressBar"/>
/// become step metrics. A process killed outright leaves its run running; readers then mark it killed.
/// </summary>
static class RunRecording
{
    sealed class Session(RunRecorder recorder, bool trainingSteps)
    {
        public RunRecorder Recorder { get; } = recorder;
        public bool TrainingSteps { get; } = trainingSteps;
        public RunOutcome? Outcome { get; set; }
    }

    static readonly AsyncLocal<Session?> Active = new();

    /// <summary>
    /// Adds <c>--store</c> and <c>--no-store</c> to <paramref name="command"/> (whose action must be set) and records
    /// each invocation as a run of <paramref name="kind"/>; <paramref name="method"/> names the method from the options.
    /// With <paramref name="trainingSteps"/> false, epoch ends are not recorded (the verb records its own steps).
    /// </summary>
    /// <param name="command">The verb.</param>
    /// <param name="kind">The kind of run.</param>
    /// <param name="method">Names the method from the options.</param>
    /// <param name="trainingSteps">Record epoch ends as steps.</param>
    /// <param name="records">Whether this invocation is a run to record (null: always).</param>
    /// <param name="describe">Refines the run's row that the options give (null: as it is).</param>
    /// <param name="store">The store flags, when the verb also reads them (for the invocations the library records itself).</param>
    public static void Attach(Command command, string kind, Func<ParseResult, string?> method, bool trainingSteps = true,
        Func<ParseResult, bool>? records = null, Func<ParseResult, RunStart, RunStart>? describe = null, StoreFlags? store = null)
    {
        var flags = store ?? new StoreFlags();
        foreach (var option in flags.All) command.Options.Add(option);
        var inner = command.Action as SynchronousCommandLineAction ?? throw new InvalidOperationException($"verb '{command.Name}' has no synchronous action to record");
        command.SetAction(parse =>
        {
            if (!flags.Records(parse) || records?.Invoke(parse) == false) return inner.Invoke(parse);
            var start = Describe(parse, kind, method(parse));
            using var recorder = RunRecorder.Begin(parse.GetValue(flags.Store)!, describe is null ? start : describe(parse, start));
            var session = new Session(recorder, trainingSteps);
            Active.Value = session;
            try
            {
                int code = inner.Invoke(parse);
                if (code == 0) recorder.Complete(session.Outcome ?? RunOutcome.Empty);
                else recorder.Fail(code == Interruption.ExitCode ? $"interrupted (exit code {code})" : $"exit code {code}", session.Outcome);
                return code;
            }
            catch (OperationCanceledException)
            {
                recorder.Fail("interrupted", session.Outcome);
                throw;
            }
            catch (Exception e) when (e is not RunStoreException)
            {
                recorder.Fail(e.Message.ReplaceLineEndings(" "), session.Outcome);
                throw;
            }
            finally
            {
                Active.Value = null;
            }
        });
    }

    /// <summary>
    /// Hands the run's outcome over, written when the verb returns (<see cref="RunMetrics.Outcome"/>). Nothing
    /// happens without a store.
    /// </summary>
    public static void Finish(IEnumerable<KeyValuePair<string, double?>> metrics, IReadOnlyList<ParameterSparsity>? layers, params (string Role, string Path)[] files)
    {
        if (Active.Value is not { } session) return;
        session.Outcome = RunMetrics.Outcome(metrics, layers, files);
    }

    /// <summary>Records metrics of one step (no-op without a store).</summary>
    public static void Step(long step, IReadOnlyDictionary<string, double> metrics) => Active.Value?.Recorder.Step(step, metrics);

    /// <summary>Records the end of a training epoch as step metrics prefixed with <paramref name="phase"/> (<c>train</c>, <c>fine-tune</c>).</summary>
    public static void Epoch(string phase, TrainingProgress progress)
    {
        if (Active.Value is not { TrainingSteps: true } session) return;
        session.Recorder.Step(progress.Position.Step, RunMetrics.Epoch(phase, progress));
    }

    /// <summary>The run's description from the verb's options: every option's value, and the usual ones (model, data, seed, sparsity) in their columns.</summary>
    public static RunStart Describe(ParseResult parse, string kind, string? method)
    {
        var values = OptionValues.Of(parse, "--store", "--no-store", "--json").Where(v => v.Value.Length > 0).ToDictionary();
        foreach (var argument in parse.CommandResult.Command.Arguments)
            values[argument.Name] = parse.GetValue<object?>(argument.Name) switch { FileSystemInfo f => f.FullName, var v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "" };
        string? Value(params string[] names) => names.Select(n => values.GetValueOrDefault(n)).FirstOrDefault(v => !string.IsNullOrEmpty(v));
        RunEnvironment environment = RunEnvironment.Capture();
        if (Value("--threads") is { } threads && int.TryParse(threads, CultureInfo.InvariantCulture, out int t) && t > 0)
            environment = environment with { Threads = t };
        return new RunStart
        {
            Kind = kind,
            Method = method,
            Model = Value("model", "--model", "checkpoint"),
            Dataset = Value("--data", "--calibration"),
            Seed = long.TryParse(Value("--seed"), CultureInfo.InvariantCulture, out long seed) ? seed : null,
            TargetSparsity = Sparsity(Value("--sparsity", "--ratio")),
            Command = "prunesharp " + string.Join(' ', parse.Tokens.Select(token => token.Value.Contains(' ') ? $"'{token.Value}'" : token.Value)),
            Parameters = values,
            Environment = environment,
        };
    }

    /// <summary>A sparsity option's value as a fraction: a number, or N:M (1 − N/M); null if absent or neither.</summary>
    static double? Sparsity(string? text)
    {
        if (text is null) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value is >= 0 and <= 1 ? value : null;
        string[] parts = text.Split(':');
        return parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out int n) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int m) && m > 0 && n >= 0 && n <= m
            ? 1 - (double)n / m
            : null;
    }
}
