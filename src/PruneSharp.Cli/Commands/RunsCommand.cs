using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Runs;

namespace PruneSharp.Cli.Commands;

/// <summary><c>prunesharp runs list|show|compare</c>: reads a run store (SQLite file or PostgreSQL).</summary>
static class RunsCommand
{
    public static Command Create() => new("runs",
        "List, show and compare the runs recorded by prune, train, lth, llm prune and llm depth.\n" +
        "Example: prunesharp runs list --kind prune\nExample: prunesharp runs compare 3 7 --store postgres://me@db/runs")
    {
        List(),
        Show(),
        Compare(),
    };

    static Option<string> StoreOption() =>
        new("--store") { Description = StoreFlags.Help + $" (default: {RunStores.DefaultPath}).", DefaultValueFactory = _ => RunStores.DefaultPath };

    static Option<bool> JsonOption() => new("--json") { Description = "Print as JSON." };

    static Command List()
    {
        var store = StoreOption();
        var json = JsonOption();
        var kind = new Option<string?>("--kind") { Description = "Only runs of this kind (prune, train, lth, llm prune, …)." };
        var group = new Option<string?>("--group") { Description = "Only runs of this group (a sweep)." };
        var status = new Option<string?>("--status") { Description = "Only runs in this state: running, completed, failed, killed." };
        var limit = new Option<int?>("--limit") { Description = "At most this many, newest first." };
        var command = new Command("list", "List runs, newest first (runs whose process is gone are marked killed first).\nExample: prunesharp runs list --status completed --limit 20")
        {
            store, json, kind, group, status, limit,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(limit) is <= 0) throw new ArgumentException($"--limit must be positive, got {parse.GetValue(limit)}");
            RunStatus? state = parse.GetValue(status) is { } text ? ParseStatus(text) : null;
            using var runs = RunStores.OpenExisting(parse.GetValue(store)!);
            var list = runs.ListRuns(new RunFilter { Kind = parse.GetValue(kind), Group = parse.GetValue(group), Status = state, Limit = parse.GetValue(limit) });
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { store = runs.Location, runs = list.Select(SummaryJson) }, Table.Json));
                return;
            }
            Table.Write(Console.Out, ["id", "status", "kind", "method", "model", "seed", "target", "sparsity", "accuracy", "started"],
                list.Select(r => (IReadOnlyList<string>)
                [
                    r.Id.ToString(CultureInfo.InvariantCulture), r.Status.ToText(), r.Kind, r.Method ?? "", r.Model is { } m ? Path.GetFileName(m) : "",
                    r.Seed?.ToString(CultureInfo.InvariantCulture) ?? "", Fraction(r.TargetSparsity), Fraction(Metric(r, MetricNames.Sparsity)),
                    Fraction(Metric(r, MetricNames.Accuracy)), Time(r.StartedAt),
                ]));
            if (list.Count == 0) Console.WriteLine($"no runs in {runs.Location}");
        });
        return command;
    }

    static Command Show()
    {
        var store = StoreOption();
        var json = JsonOption();
        var id = new Argument<long>("id") { Description = "The run's id (see runs list)." };
        var command = new Command("show", "Show one run: options, environment, steps, final metrics, layers, artifacts.\nExample: prunesharp runs show 3")
        {
            id, store, json,
        };
        command.SetAction(parse =>
        {
            using var runs = RunStores.OpenExisting(parse.GetValue(store)!);
            RunRecord run = runs.GetRun(parse.GetValue(id));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    run = SummaryJson(run.Summary), recipe = run.Recipe, command = run.Command, parameters = run.Parameters,
                    environment = run.Environment.ToValues(),
                    steps = run.Steps.GroupBy(s => s.Step).Select(g => new { step = g.Key, metrics = g.ToDictionary(s => s.Name, s => s.Value) }),
                    layers = run.Layers.Select(l => new { name = l.Name, shape = l.Shape, @params = l.Parameters, nonzeros = l.NonZeros, sparsity = l.Sparsity }),
                    artifacts = run.Artifacts.Select(a => new { role = a.Role, path = a.Path, sha256 = a.Sha256, bytes = a.Bytes }),
                    contested = run.Contests.Select(x => new { path = x.Path, otherRun = x.OtherRunId, winnerRun = x.WinnerRunId }),
                }, Table.Json));
                return;
            }
            var s = run.Summary;
            Console.WriteLine($"run {s.Id}: {s.Kind}{(s.Method is null ? "" : $" ({s.Method})")}, {s.Status.ToText()}{(s.Error is null ? "" : $": {s.Error}")}");
            Console.WriteLine($"started {Time(s.StartedAt)}, {(s.EndedAt is { } end ? $"ended {Time(end)} ({(end - s.StartedAt).TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s)" : $"last heartbeat {Time(s.HeartbeatAt)}")}, process {s.ProcessId} on {s.Host}");
            if (run.Command is { } c) Console.WriteLine($"command: {c}");
            if (s.Group is { } g) Console.WriteLine($"group: {g}");
            Section("final metrics", s.Metrics.Select(m => (IReadOnlyList<string>)[m.Key, Number(m.Value)]), "metric", "value");
            Section("options", run.Parameters.Select(p => (IReadOnlyList<string>)[p.Key, p.Value]), "option", "value");
            Section("environment", run.Environment.ToValues().Select(p => (IReadOnlyList<string>)[p.Key, p.Value]), "name", "value");
            var names = run.Steps.Select(x => x.Name).Distinct().Order(StringComparer.Ordinal).ToList();
            Section($"steps ({run.Steps.Select(x => x.Step).Distinct().Count()})", run.Steps.GroupBy(x => x.Step).Select(step =>
                (IReadOnlyList<string>)[step.Key.ToString(CultureInfo.InvariantCulture), .. names.Select(n => step.FirstOrDefault(x => x.Name == n) is { } v ? Number(v.Value) : "")]),
                ["step", .. names]);
            Section("layers", run.Layers.Select(l => (IReadOnlyList<string>)[l.Name, Table.Shape(l.Shape), PruneCommand.Count(l.Parameters), PruneCommand.Count(l.NonZeros), PruneCommand.Percent(l.Sparsity)]),
                "layer", "shape", "params", "non-zeros", "sparsity");
            Section("artifacts", run.Artifacts.Select(a => (IReadOnlyList<string>)[a.Role, a.Path, a.Sha256[..Math.Min(16, a.Sha256.Length)], PruneCommand.Count(a.Bytes)]), "role", "path", "sha256 (start)", "bytes");
            Section("contested outputs (another run wrote the same file meanwhile)", run.Contests.Select(x => (IReadOnlyList<string>)[x.Path,
                $"run {x.OtherRunId}",
                x.WinnerRunId is not { } winner ? "unknown (both recorded the same bytes)" : winner == s.Id ? "this run's" : $"run {winner}'s"]),
                "path", "also written by", "write on disk");
            if (run.Recipe is { } recipe)
            {
                Console.WriteLine();
                Console.WriteLine("recipe:");
                Console.WriteLine(recipe.TrimEnd());
            }
        });
        return command;
    }

    static Command Compare()
    {
        var store = StoreOption();
        var json = JsonOption();
        var first = new Argument<long>("first") { Description = "The first run's id." };
        var second = new Argument<long>("second") { Description = "The second run's id." };
        var command = new Command("compare", "Compare two runs: the options and environment that differ, final metrics side by side, layers whose sparsity differs.\nExample: prunesharp runs compare 3 7")
        {
            first, second, store, json,
        };
        command.SetAction(parse =>
        {
            using var runs = RunStores.OpenExisting(parse.GetValue(store)!);
            var comparison = RunComparison.Of(runs.GetRun(parse.GetValue(first)), runs.GetRun(parse.GetValue(second)));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    first = SummaryJson(comparison.First), second = SummaryJson(comparison.Second),
                    parameters = comparison.Parameters.Select(v => new { name = v.Name, first = v.First, second = v.Second }),
                    environment = comparison.Environment.Select(v => new { name = v.Name, first = v.First, second = v.Second }),
                    metrics = comparison.Metrics.Select(v => new { name = v.Name, first = v.First, second = v.Second, difference = v.Second - v.First }),
                    layers = comparison.Layers.Select(v => new { name = v.Name, first = v.First, second = v.Second }),
                }, Table.Json));
                return;
            }
            string a = $"run {comparison.First.Id}", b = $"run {comparison.Second.Id}";
            Console.WriteLine($"{a}: {comparison.First.Kind} {comparison.First.Method} ({comparison.First.Status.ToText()}); {b}: {comparison.Second.Kind} {comparison.Second.Method} ({comparison.Second.Status.ToText()})");
            Section("final metrics", comparison.Metrics.Select(v => (IReadOnlyList<string>)[v.Name, Number(v.First), Number(v.Second), v.First is { } x && v.Second is { } y ? (y - x).ToString("+0.####;-0.####;0", CultureInfo.InvariantCulture) : ""]),
                "metric", a, b, "difference");
            Section("options that differ", comparison.Parameters.Select(v => (IReadOnlyList<string>)[v.Name, v.First ?? "(absent)", v.Second ?? "(absent)"]), "option", a, b);
            Section("environment that differs", comparison.Environment.Select(v => (IReadOnlyList<string>)[v.Name, v.First ?? "(absent)", v.Second ?? "(absent)"]), "name", a, b);
            Section("layers whose sparsity differs", comparison.Layers.Select(v => (IReadOnlyList<string>)[v.Name, Fraction(v.First), Fraction(v.Second)]), "layer", a, b);
        });
        return command;
    }

    static object SummaryJson(RunSummary r) => new
    {
        id = r.Id, status = r.Status.ToText(), error = r.Error, kind = r.Kind, name = r.Name, group = r.Group, method = r.Method, model = r.Model,
        dataset = r.Dataset, seed = r.Seed, target_sparsity = r.TargetSparsity, host = r.Host, pid = r.ProcessId,
        started = r.StartedAt, heartbeat = r.HeartbeatAt, ended = r.EndedAt, metrics = r.Metrics,
    };

    static RunStatus ParseStatus(string text)
    {
        try
        {
            return RunStatusText.Parse(text);
        }
        catch (RunStoreException)
        {
            throw new ArgumentException($"--status '{text}' is not one of running, completed, failed, killed");
        }
    }

    static void Section(string title, IEnumerable<IReadOnlyList<string>> rows, params IReadOnlyList<string> header)
    {
        var list = rows.ToList();
        if (list.Count == 0) return;
        Console.WriteLine();
        Console.WriteLine($"{title}:");
        Table.Write(Console.Out, header, list);
    }

    static double? Metric(RunSummary run, string name) => run.Metrics.TryGetValue(name, out double v) ? v : null;

    static string Fraction(double? value) => value is { } v ? PruneCommand.Percent(v) : "";

    static string Number(double? value) => value is { } v ? v.ToString("G6", CultureInfo.InvariantCulture) : "";

    static string Time(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
