using PruneSharp.Bench;

// Each benchmark is a subcommand in its own file; every one prints its result and a ratio against a baseline
// measured in the same process.
var benchmarks = new Dictionary<string, (string Summary, Func<string[], int> Run)>
{
    ["global-magnitude"] = (GlobalMagnitudeBench.Summary, GlobalMagnitudeBench.Run),
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var benchmark))
{
    Console.Error.WriteLine("usage: PruneSharp.Bench <benchmark> [options]");
    foreach (var (name, (summary, _)) in benchmarks) Console.Error.WriteLine($"  {name,-20} {summary}");
    return args.Length == 0 ? 0 : 1;
}
return benchmark.Run(args[1..]);
