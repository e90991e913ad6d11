using System.CommandLine;
using PruneSharp.Reporting;
using PruneSharp.Runs;

namespace PruneSharp.Cli.Commands;

/// <summary><c>prunesharp report STORE -o report.html</c>: the self-contained HTML report of a run store.</summary>
static class ReportCommand
{
    public static Command Create()
    {
        var store = new Argument<string>("store") { Description = StoreFlags.Help + $" (default: {RunStores.DefaultPath}).", DefaultValueFactory = _ => RunStores.DefaultPath };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the HTML file.", DefaultValueFactory = _ => "report.html" };
        var kind = new Option<string?>("--kind") { Description = "Only runs of this kind (prune, train, lth, llm prune, …)." };
        var group = new Option<string?>("--group") { Description = "Only runs of this group (a sweep)." };
        var command = new Command("report",
            "Write one self-contained HTML file (no network): quality-vs-sparsity curves per method with seed spread, per-layer sparsity,\n" +
            "params/MACs/latency tables, Lottery Ticket density curves.\n" +
            "Example: prunesharp report runs.db -o report.html\nExample: prunesharp report postgres://me@db/runs --group sweep-3 -o sweep.html")
        {
            store, output, kind, group,
        };
        command.SetAction(parse =>
        {
            string path = Path.GetFullPath(parse.GetValue(output)!);
            using var runs = RunStores.OpenExisting(parse.GetValue(store)!);
            RunReport.Write(runs, path, new RunFilter { Kind = parse.GetValue(kind), Group = parse.GetValue(group) });
            Console.WriteLine($"wrote {path}");
        });
        return command;
    }
}
