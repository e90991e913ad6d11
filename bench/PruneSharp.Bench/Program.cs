using PruneSharp.Bench;

// PruneSharp benchmarks: one program, one subcommand per benchmark. Each prints a ratio against a baseline measured
// in the same process.
var benches = new Dictionary<string, (string Usage, Func<string[], int> Run)>(StringComparer.Ordinal)
{
    ["import"] = (ImportBench.Usage, ImportBench.Run),
};
if (args.Length == 0 || !benches.TryGetValue(args[0], out var bench))
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/PruneSharp.Bench -- <bench> [options]");
    foreach (var (name, (usage, _)) in benches) Console.Error.WriteLine($"  {name,-8} {usage}");
    return 1;
}
try
{
    return bench.Run(args[1..]);
}
catch (Exception e) when (e is ArgumentException or IOException or PruneSharp.Graph.GraphException)
{
    Console.Error.WriteLine($"bench {args[0]}: {e.Message}");
    return 1;
}
