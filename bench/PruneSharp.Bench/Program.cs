using PruneSharp.Bench;

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
// As the CLI does; scripts that time a peer give it the same allocator settings (MALLOC_* variables).
// PRUNESHARP_RELEASE_MEMORY=1 measures without it (docs/benchmarks.md).
if (Environment.GetEnvironmentVariable("PRUNESHARP_RELEASE_MEMORY") != "1") PruneSharp.Engine.TorchEngine.RetainFreedMemory();
return chosen.Run(args[1..]);
