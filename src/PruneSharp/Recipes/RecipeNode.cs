using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

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

    /// <summary>Reads the YAML of <paramref name="text"/> (one document) into nodes; a YAML syntax error becomes a <see cref="RecipeException"/>.</summary>
    public static RecipeNode Parse(string text, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new RecipeException(new[] { new RecipeProblem(new SourcePosition(file, (int)e.Start.Line, (int)e.Start.Column), $"not valid YAML: {e.InnerException?.Message ?? e.Message}") });
        }
        if (stream.Documents.Count != 1)
            throw new RecipeException(new[] { new RecipeProblem(new SourcePosition(file, 1, 1), $"a recipe is one YAML document, found {stream.Documents.Count}") });
        return Convert(stream.Documents[0].RootNode, file);
    }

    static RecipeNode Convert(YamlNode node, string file)
    {
        var at = new SourcePosition(file, (int)node.Start.Line, (int)node.Start.Column);
        return node switch
        {
            YamlMappingNode map => new MappingNode(at, map.Children.Select(c => ((ScalarNode)Convert(c.Key, file), Convert(c.Value, file))).ToList()),
            YamlSequenceNode seq => new SequenceNode(at, seq.Children.Select(c => Convert(c, file)).ToList()),
            YamlScalarNode scalar => new ScalarNode(at, scalar.Value ?? "", scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && scalar.Value is "" or "~" or "null"),
            _ => throw new RecipeException(new[] { new RecipeProblem(at, "aliases are not supported in recipes") }),
        };
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
