using System.Text.RegularExpressions;

namespace PruneSharp.Recipes;

/// <summary>
/// One <c>--set KEY=VALUE</c>: KEY is a dotted path into the recipe (<c>recovery.epochs</c>, <c>stages.0.sparsity</c>
/// or <c>stages[0].sparsity</c>); a stage key alone (<c>sparsity</c>, <c>method</c>, ...) sets it in every stage, those
/// of every <c>comparison.variants</c> entry included.
/// VALUE is read as YAML (<c>exclude=[fc3.*]</c> gives a list).
/// </summary>
/// <param name="Key">The path, with indices written as <c>.N</c>.</param>
/// <param name="Value">The value's text.</param>
public sealed record RecipeOverride(string Key, string Value)
{
    /// <summary>Reads <c>KEY=VALUE</c>.</summary>
    /// <exception cref="ArgumentException">No <c>=</c>, or an empty key.</exception>
    public static RecipeOverride Parse(string text)
    {
        int equals = text.IndexOf('=');
        if (equals <= 0) throw new ArgumentException($"--set '{text}' is not KEY=VALUE (e.g. stages.0.sparsity=0.9)");
        string key = Regex.Replace(text[..equals].Trim(), @"\[(\d+)\]", ".$1");
        return new RecipeOverride(key, text[(equals + 1)..]);
    }

    /// <summary>How the override is written on the command line.</summary>
    public override string ToString() => $"--set {Key}={Value}";

    internal void Apply(MappingNode root)
    {
        var origin = ToString();
        var value = RecipeNode.Parse(Value.Length == 0 ? "~" : Value, origin);
        var at = new SourcePosition(origin, 1, 7 + Key.Length);
        var path = Key.Split('.');
        if (path.Length == 1 && RecipeSchema.Stage.Contains(path[0]) && !RecipeSchema.Top.Contains(path[0]) && StageLists(root).ToList() is { Count: > 0 } lists)
        {
            foreach (var stage in lists.SelectMany(l => l.Items).OfType<MappingNode>()) stage.Set(new ScalarNode(at, path[0]), value);
            return;
        }
        RecipeNode current = root;
        for (int i = 0; i < path.Length - 1; i++)
        {
            current = current switch
            {
                MappingNode map => map[path[i]] ?? Added(map, path[i], at),
                SequenceNode seq when int.TryParse(path[i], out int index) && index >= 0 && index < seq.Items.Count => seq.Items[index],
                _ => throw new RecipeException(new[] { new RecipeProblem(at, $"{origin}: '{string.Join('.', path[..(i + 1)])}' is not a mapping or an index into a list") }),
            };
        }
        switch (current)
        {
            case MappingNode map:
                map.Set(new ScalarNode(at, path[^1]), value);
                break;
            case SequenceNode seq when int.TryParse(path[^1], out int index) && index >= 0 && index < seq.Items.Count:
                seq.Items[index] = value;
                break;
            default:
                throw new RecipeException(new[] { new RecipeProblem(at, $"{origin}: '{Key}' does not name a place in the recipe") });
        }
    }

    /// <summary>The recipe's lists of stages: <c>stages</c>, and those of every <c>comparison.variants</c> entry.</summary>
    static IEnumerable<SequenceNode> StageLists(MappingNode root)
    {
        if (root["stages"] is SequenceNode stages) yield return stages;
        if (root["comparison"] is MappingNode comparison && comparison["variants"] is SequenceNode variants)
            foreach (var variant in variants.Items.OfType<MappingNode>())
                if (variant["stages"] is SequenceNode own) yield return own;
    }

    static MappingNode Added(MappingNode map, string key, SourcePosition at)
    {
        var added = new MappingNode(at, new());
        map.Set(new ScalarNode(at, key), added);
        return added;
    }
}
