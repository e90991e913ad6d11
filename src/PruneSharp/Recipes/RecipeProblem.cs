namespace PruneSharp.Recipes;

/// <summary>One problem of a recipe, at the position of the value (or key) at fault.</summary>
/// <param name="Position">Where it was written.</param>
/// <param name="Message">What is wrong, naming the key.</param>
/// <param name="Suggestions">The nearest valid names, for a mistyped name or key (else empty).</param>
public sealed record RecipeProblem(SourcePosition Position, string Message, IReadOnlyList<string>? Suggestions = null)
{
    /// <summary><c>file:line:column: message (did you mean ...?)</c>.</summary>
    public override string ToString() =>
        $"{Position}: {Message}{(Suggestions is { Count: > 0 } s ? $" (did you mean {string.Join(" or ", s)}?)" : "")}";
}

/// <summary>A recipe that cannot run, with every problem found (not only the first).</summary>
public sealed class RecipeException(IReadOnlyList<RecipeProblem> problems)
    : ArgumentException(string.Join(Environment.NewLine, problems.Select(p => p.ToString())))
{
    /// <summary>The problems, in the order of the file.</summary>
    public IReadOnlyList<RecipeProblem> Problems { get; } = problems;
}
