using PruneSharp.Bench;

<<<<<<< HEAD
<<<<<<< HEAD
=======
>>>>>>> data-trainer
var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && !t.IsInterface && !t.IsAbstract)
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

var chosen = args.Length > 0 ? benchmarks.FirstOrDefault(b => b.Name == args[0]) : null;
if (chosen == null)
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/PruneSharp.Bench -- NAME [args]");
    foreach (var b in benchmarks) Console.Error.WriteLine($"  {b.Name,-14} {b.Description}");
    return args.Length == 0 ? 0 : 2;
}
PruneSharp.Engine.TorchEngine.EnsureLoaded();
return chosen.Run(args[1..]);
<<<<<<< HEAD
=======
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
>>>>>>> pruning
=======
>>>>>>> data-trainer
