namespace PruneSharp.Bench;

/// <summary>One benchmark, selected by name on the command line: <c>dotnet run -c Release --project bench/PruneSharp.Bench -- NAME [args]</c>.</summary>
interface IBenchmark
{
    /// <summary>The name given on the command line.</summary>
    string Name { get; }
    /// <summary>One line saying what is compared.</summary>
    string Description { get; }
    /// <summary>Runs and prints results, ending with the ratio(s) measured side by side; returns the exit code.</summary>
    int Run(string[] args);
}
