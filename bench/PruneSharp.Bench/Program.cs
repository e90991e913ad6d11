using PruneSharp.Bench;

var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && !t.IsInterface && !t.IsAbstract)
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .Select(b => (b.Name, b.Description, Run: (Func<string[], int>)b.Run))
    .Append(("global-magnitude", GlobalMagnitudeBench.Summary, GlobalMagnitudeBench.Run))
    .OrderBy(b => b.Item1, StringComparer.Ordinal)
    .ToList();

var chosen = args.Length > 0 ? benchmarks.FirstOrDefault(b => b.Item1 == args[0]) : default;
if (chosen.Run == null)
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/PruneSharp.Bench -- NAME [args]");
    foreach (var (name, description, _) in benchmarks) Console.Error.WriteLine($"  {name,-18} {description}");
    return args.Length == 0 ? 0 : 2;
}
PruneSharp.Engine.TorchEngine.EnsureLoaded();
return chosen.Run(args[1..]);
