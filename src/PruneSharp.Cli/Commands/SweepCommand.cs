using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PruneSharp.Recipes;
using PruneSharp.Runs;
using PruneSharp.Sweeps;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp sweep RECIPE.yaml --grid KEY=V1,V2 ... --seeds N [--jobs N]</c>: runs every cell of the grid as a
/// child <c>prunesharp run</c> recording to the run store, skipping cells whose identity (the hash of the resolved
/// recipe, seed included) already completed there; or, with <c>--backend slurm</c>, writes (and submits) a Slurm job
/// array with one cell per task.
/// </summary>
static class SweepCommand
{
    public static Command Create()
    {
        var recipe = new Argument<string>("recipe") { Description = "The recipe to sweep (docs/recipes.md)." };
        var grid = new Option<string[]>("--grid") { Description = "An axis: KEY=V1,V2,... (a recipe key as --set takes it; a stage key alone sets every stage). Repeatable; the grid is every combination.", AllowMultipleArgumentsPerToken = false };
        var seeds = new Option<int>("--seeds") { Description = "Run every combination with seeds 0..N-1.", DefaultValueFactory = _ => 1 };
        var jobs = new Option<int>("--jobs") { Description = "Cells run at once (local backend; each is its own process).", DefaultValueFactory = _ => 1 };
        var set = new Option<string[]>("--set") { Description = "Override a recipe key for every cell: KEY=VALUE. Repeatable.", AllowMultipleArgumentsPerToken = false };
        var output = new Option<string?>("--out") { Description = "Folder for the cells' models (as IDENTITY.onnx) and the Slurm files. Default: sweep-RECIPE beside the recipe's name in the current folder." };
        var store = new Option<string>("--store") { Description = StoreFlags.Help + $" the cells record to (default: {RunStores.DefaultPath} in the current folder).", DefaultValueFactory = _ => RunStores.DefaultPath };
        var group = new Option<string?>("--group") { Description = "The sweep's group in the run store (default: the recipe file's name)." };
        var backend = new Option<string>("--backend") { Description = "local (run the cells here) or slurm (write a job array script and submit it with sbatch).", DefaultValueFactory = _ => "local" };
        var submit = new Option<bool>("--no-submit") { Description = "--backend slurm: write the job array script without submitting it." };
        var json = new Option<bool>("--json") { Description = "Print the cells and their outcome as JSON." };
        var slurm = new SlurmFlags();
        var command = new Command("sweep",
            "Run a recipe over a grid of overrides and seeds; finished cells are skipped when the sweep is run again.\n" +
            "Example: prunesharp sweep examples/magnitude.yaml --grid sparsity=0.5,0.8,0.9,0.95 --grid method=magnitude,random --seeds 3 --jobs 2\n" +
            "Example: prunesharp sweep examples/magnitude.yaml --grid sparsity=0.5,0.9 --backend slurm --slurm-partition cpu --slurm-time 01:00:00")
        {
            recipe, grid, seeds, jobs, set, output, store, group, backend, submit, json,
        };
        foreach (var option in slurm.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            string recipePath = Path.GetFullPath(parse.GetValue(recipe)!);
            var axes = (parse.GetValue(grid) ?? Array.Empty<string>()).Select(SweepAxis.Parse).ToList();
            var overrides = (parse.GetValue(set) ?? Array.Empty<string>()).Select(RecipeOverride.Parse).ToList();
            string kind = parse.GetValue(backend)!.ToLowerInvariant();
            if (kind is not ("local" or "slurm")) throw new ArgumentException($"--backend '{parse.GetValue(backend)}' is not one of local, slurm");
            string folder = Path.GetFullPath(parse.GetValue(output) ?? $"sweep-{Path.GetFileNameWithoutExtension(recipePath)}");
            string groupName = parse.GetValue(group) ?? Path.GetFileNameWithoutExtension(recipePath);
            string storeLocation = Location(parse.GetValue(store)!);
            IReadOnlyList<SweepCell> cells;
            try
            {
                if (!File.Exists(recipePath)) throw new FileNotFoundException($"recipe '{recipePath}' does not exist");
                cells = SweepGrid.Cells(recipePath, axes, parse.GetValue(seeds), folder, overrides);
            }
            catch (RecipeException e)
            {
                foreach (var problem in e.Problems) Console.Error.WriteLine($"prunesharp: {problem}");
                Console.Error.WriteLine($"prunesharp: {e.Problems.Count} problem(s) in the sweep's cells");
                return 1;
            }
            var finished = Finished(storeLocation);
            if (kind == "slurm")
                return Slurm(cells, finished, recipePath, overrides, storeLocation, groupName, folder,
                    slurm.Job(parse, groupName, parse.GetResult(jobs) is { Implicit: false } ? parse.GetValue(jobs) : null), !parse.GetValue(submit), parse.GetValue(json));
            bool quiet = parse.GetValue(json);
            var progress = new SynchronousProgress<CellResult>(r =>
            {
                if (!quiet) Verbosity.Status($"{r.Status.ToString().ToLowerInvariant()}: {r.Cell.Label} ({r.Cell.Identity}){(r.Error is null ? "" : $": {r.Error}")}");
            });
            var results = TrainCommand.WithCtrlC(token => SweepRunner.Run(cells, finished,
                (cell, cancel) => RunCell(CellCommand.Arguments(recipePath, overrides, cell, storeLocation, groupName), cancel), parse.GetValue(jobs), progress, token));
            Render(results, storeLocation, groupName, parse.GetValue(json));
            return results.Any(r => r.Status == CellStatus.Failed) ? 1 : 0;
        });
        return command;
    }

    /// <summary>An SQLite path made absolute (the cells may run elsewhere); a PostgreSQL address as given.</summary>
    static string Location(string store) => PostgresAddress.IsAddress(store) ? store : Path.GetFullPath(store);

    /// <summary>The identities of the cells that completed in the store (none if the store does not exist yet).</summary>
    static IReadOnlySet<string> Finished(string store)
    {
        if (!PostgresAddress.IsAddress(store) && !File.Exists(store)) return new HashSet<string>();
        using var runs = RunStores.Open(store);
        return runs.ListRuns(new RunFilter { Kind = RunCommand.Kind, Status = RunStatus.Completed }).Select(r => r.Name).OfType<string>().ToHashSet();
    }

    /// <summary>Runs one cell as a child <c>prunesharp run</c>; null on success, else its last error line.</summary>
    static string? RunCell(IReadOnlyList<string> args, CancellationToken cancellation)
    {
        var (file, prefix) = Executable();
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(args)) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new IOException($"cannot start {file}");
        using var kill = cancellation.Register(() => process.Kill(entireProcessTree: true));
        var error = process.StandardError.ReadToEndAsync(cancellation);
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        cancellation.ThrowIfCancellationRequested();
        if (process.ExitCode == 0) return null;
        string last = error.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => !l.Contains('#')) ?? "";
        return $"exit code {process.ExitCode}: {last}";
    }

    /// <summary>How to start this program again: its own executable, the executable beside its assembly, or the .NET host with the assembly.</summary>
    public static (string File, IReadOnlyList<string> Prefix) Executable()
    {
        string assembly = typeof(SweepCommand).Assembly.Location;
        string? self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) is "prunesharp" or "PruneSharp.Cli") return (self, Array.Empty<string>());
        string apphost = Path.ChangeExtension(assembly, null);
        if (File.Exists(apphost)) return (apphost, Array.Empty<string>());
        string host = self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        return (host, new[] { assembly });
    }

    static int Slurm(IReadOnlyList<SweepCell> cells, IReadOnlySet<string> finished, string recipe, IReadOnlyList<RecipeOverride> overrides, string store, string group,
        string folder, SlurmJob job, bool submit, bool json)
    {
        var todo = cells.Where(c => !finished.Contains(c.Identity)).DistinctBy(c => c.Identity).ToList();
        if (todo.Count == 0)
        {
            Console.WriteLine(json ? JsonSerializer.Serialize(new { cells = cells.Count, to_run = 0 }, Table.Json) : $"all {cells.Count} cells have completed in {store}; nothing to submit");
            return 0;
        }
        var (file, prefix) = Executable();
        var lines = todo.Select(c => string.Join(' ', prefix.Prepend(file).Concat(CellCommand.Arguments(recipe, overrides, c, store, group)).Select(CellCommand.Quote))).ToList();
        string script = SlurmArray.Write(folder, job, lines);
        string? submitted = submit ? SlurmArray.Submit(script) : null;
        if (json) Console.WriteLine(JsonSerializer.Serialize(new { cells = cells.Count, to_run = todo.Count, script, job_id = submitted }, Table.Json));
        else
        {
            Console.WriteLine($"{todo.Count} of {cells.Count} cells to run; job array script {script}");
            Console.WriteLine(submitted is null ? $"submit it with: sbatch {CellCommand.Quote(script)}" : $"submitted job {submitted}");
        }
        return 0;
    }

    static void Render(IReadOnlyList<CellResult> results, string store, string group, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                store, group,
                cells = results.Select(r => new { identity = r.Cell.Identity, overrides = r.Cell.Overrides.ToDictionary(o => o.Key, o => o.Value), status = r.Status.ToString().ToLowerInvariant(), error = r.Error, seconds = r.Elapsed.TotalSeconds }),
            }, Table.Json));
            return;
        }
        var rows = results.Select(r => (IReadOnlyList<string>)new[]
        {
            r.Cell.Label, r.Cell.Identity, r.Status.ToString().ToLowerInvariant(), r.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
        });
        Table.Write(Console.Out, new[] { "cell", "identity", "status", "seconds" }, rows);
        Console.WriteLine();
        Console.WriteLine($"{results.Count(r => r.Status == CellStatus.Completed)} completed, {results.Count(r => r.Status == CellStatus.Skipped)} skipped (finished before), {results.Count(r => r.Status == CellStatus.Failed)} failed; recorded in {store}, group {group}");
    }

    /// <summary>Reports on the calling thread at once (the cells' threads), unlike <see cref="Progress{T}"/>.</summary>
    sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        readonly object _gate = new();

        public void Report(T value)
        {
            lock (_gate) report(value);
        }
    }
}
