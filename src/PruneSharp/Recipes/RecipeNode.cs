using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace PruneSharp.Recipes;

/// <summary>Where a recipe value was written: a file with line and column (1-based), or a <c>--set</c> override.</summary>
/// <param name="File">The recipe file, or <c>--set KEY=VALUE</c>.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
public sealed record SourcePosition(string File, int Line, int Column)
{
    /// <summary><c>file:line:column</c>.</summary>
    public override string ToString() => File.StartsWith("--set ", StringComparison.Ordinal) ? File : $"{File}:{Line}:{Column}";
}

/// <summary>A recipe value with the position it was written at: a scalar, a mapping or a sequence.</summary>
abstract class RecipeNode(SourcePosition position)
{
    public SourcePosition Position { get; } = position;

    /// <summary>How deeply values may nest; a recipe needs a handful of levels.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Reads the YAML of <paramref name="text"/> (one document) into nodes. A YAML syntax error, an alias, a key that
    /// is not a plain value, a key written twice or nesting deeper than <see cref="MaxDepth"/> becomes a
    /// <see cref="RecipeException"/>. The reader follows the parser's events in a loop, never recursing and never
    /// expanding aliases, so a hostile file (an alias bomb, thousands of nested brackets) fails at once.
    /// </summary>
    public static RecipeNode Parse(string text, string file)
    {
        RecipeException Fail(Mark at, string problem) =>
            new(new[] { new RecipeProblem(new SourcePosition(file, (int)at.Line, (int)at.Column), problem) });
        var parser = new Parser(new StringReader(text));
        var documents = new List<RecipeNode>();
        // Open mappings and sequences, innermost last; a mapping holds its keys so far and its key until the key's value
        // is complete.
        var open = new Stack<(RecipeNode Node, ScalarNode? PendingKey, HashSet<string>? Keys)>();
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                SourcePosition At() => new(file, (int)current.Start.Line, (int)current.Start.Column);
                RecipeNode? complete = null;
                switch (current)
                {
                    case AnchorAlias:
                        throw Fail(current.Start, "aliases are not supported in recipes");
                    case MappingStart or SequenceStart:
                        if (open.Count == MaxDepth) throw Fail(current.Start, $"values nested more than {MaxDepth} levels deep");
                        if (open.TryPeek(out var parent) && parent is { Node: MappingNode, PendingKey: null })
                            throw Fail(current.Start, "a key must be a plain value, not a mapping or a list");
                        open.Push(current is MappingStart ? (new MappingNode(At(), []), null, new HashSet<string>(StringComparer.Ordinal)) : (new SequenceNode(At(), []), null, null));
                        break;
                    case MappingEnd or SequenceEnd:
                        complete = open.Pop().Node;
                        break;
                    case Scalar scalar:
                        complete = new ScalarNode(At(), scalar.Value, scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && scalar.Value is "" or "~" or "null");
                        break;
                }
                if (complete is null) continue;
                if (open.Count == 0)
                {
                    documents.Add(complete);
                    continue;
                }
                var (node, key, keys) = open.Pop();
                if (node is SequenceNode sequence) sequence.Items.Add(complete);
                else if (key is null)
                {
                    var newKey = (ScalarNode)complete;
                    if (!keys!.Add(newKey.Value)) throw Fail(current.Start, $"the key '{newKey.Value}' is written twice");
                    open.Push((node, newKey, keys));
                    continue;
                }
                else ((MappingNode)node).Entries.Add((key, complete));
                open.Push((node, null, keys));
            }
        }
        catch (YamlException e)
        {
            throw Fail(e.Start, $"not valid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails so on some malformed text (a flow list left open inside a block mapping) instead of
            // raising a YamlException; the position is that of the last event read.
            throw Fail(parser.Current?.End ?? Mark.Empty, "not valid YAML after this point (the YAML scanner gave up; look for an unclosed [ or {)");
        }
        if (documents.Count != 1)
            throw new RecipeException(new[] { new RecipeProblem(new SourcePosition(file, 1, 1), $"a recipe is one YAML document, found {documents.Count}") });
        return documents[0];
    }
}

/// <summary>A scalar: its text as written; <see cref="IsNull"/> for an empty value, <c>~</c> or <c>null</c>.</summary>
sealed class ScalarNode(SourcePosition position, string value, bool isNull = false) : RecipeNode(position)
{
    public string Value { get; } = value;

    public bool IsNull { get; } = isNull;
}

/// <summary>A mapping, its keys in the order written.</summary>
sealed class MappingNode(SourcePosition position, List<(ScalarNode Key, RecipeNode Value)> entries) : RecipeNode(position)
{
    public List<(ScalarNode Key, RecipeNode Value)> Entries { get; } = entries;

    public RecipeNode? this[string key] => Entries.FirstOrDefault(e => e.Key.Value == key).Value;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>, replacing an entry or appending one.</summary>
    public void Set(ScalarNode key, RecipeNode value)
    {
        int i = Entries.FindIndex(e => e.Key.Value == key.Value);
        if (i >= 0) Entries[i] = (Entries[i].Key, value);
        else Entries.Add((key, value));
    }
}

/// <summary>A sequence.</summary>
sealed class SequenceNode(SourcePosition position, List<RecipeNode> items) : RecipeNode(position)
{
    public List<RecipeNode> Items { get; } = items;
}
