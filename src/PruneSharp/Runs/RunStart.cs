namespace PruneSharp.Runs;

/// <summary>
/// What is known about a run when it begins: what kind of work it is, what it prunes with which method, its recipe
/// and options. The report groups runs by <see cref="Method"/> and spreads them over <see cref="Seed"/>; a sweep
/// gives all its runs one <see cref="Group"/>.
/// </summary>
public sealed record RunStart
{
    /// <summary>The kind of work, usually the verb: <c>prune</c>, <c>train</c>, <c>lth</c>, <c>llm prune</c>, <c>sweep</c>, <c>recipe</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>A name for people (e.g. the recipe's or sweep point's name).</summary>
    public string? Name { get; init; }

    /// <summary>Runs that belong together (one sweep, one experiment).</summary>
    public string? Group { get; init; }

    /// <summary>The pruning method as the report labels it (e.g. <c>magnitude/global</c>, <c>wanda</c>, <c>lth</c>).</summary>
    public string? Method { get; init; }

    /// <summary>The model (zoo name or file).</summary>
    public string? Model { get; init; }

    /// <summary>The data set.</summary>
    public string? Dataset { get; init; }

    /// <summary>The random seed.</summary>
    public long? Seed { get; init; }

    /// <summary>The sparsity asked for, in [0, 1].</summary>
    public double? TargetSparsity { get; init; }

    /// <summary>The recipe's text as given (YAML/JSON), when the run came from one.</summary>
    public string? Recipe { get; init; }

    /// <summary>The command line that started the run.</summary>
    public string? Command { get; init; }

    /// <summary>Further options by name (criterion, scope, epochs, …), as text.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The environment; null captures this process's with <see cref="RunEnvironment.Capture"/>.</summary>
    public RunEnvironment? Environment { get; init; }
}
