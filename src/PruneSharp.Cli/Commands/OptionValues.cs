using System.CommandLine;
using System.Globalization;

namespace PruneSharp.Cli.Commands;

/// <summary>Every option of the running command with its value (given or default), as text: the options part of a run's fingerprint.</summary>
static class OptionValues
{
    /// <summary>Each option's name and value, except <paramref name="ignored"/> (where output goes and how it is shown do not change results).</summary>
    public static IEnumerable<KeyValuePair<string, string>> Of(ParseResult parse, params string[] ignored) =>
        parse.CommandResult.Command.Options.Where(o => !ignored.Contains(o.Name) && o.ValueType != typeof(void))
            .Select(o => new KeyValuePair<string, string>(o.Name, Text(parse.GetValue<object?>(o.Name))));

    static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        System.Collections.IEnumerable list => string.Join(",", list.Cast<object?>().Select(Text)),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
