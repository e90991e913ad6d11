using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PruneSharp.Cli;

/// <summary>
/// The checks of every numeric option, in one place. A floating-point value must be finite (NaN and ∞ are refused
/// for every option); an option listed in <see cref="Ranges"/> must lie in its range, whichever verb declares it.
/// A new numeric option needs one line in the table. Checks run while parsing, so a bad value fails before any
/// model or data is loaded, with one line naming the option.
/// </summary>
static partial class OptionRules
{
    /// <summary>Allowed values by option name (the same name means the same quantity in every verb).</summary>
    static readonly Dictionary<string, Interval> Ranges = new(StringComparer.Ordinal)
    {
        ["--sparsity"] = new(0, 1, MaxOpen: true),
        ["--ratio"] = new(0, 1),
        ["--max-ratio"] = new(0, 1, MinOpen: true),
        ["--rate"] = new(0, 1, MinOpen: true, MaxOpen: true),
        ["--held-out"] = new(0, 1, MinOpen: true, MaxOpen: true),
        ["--momentum"] = new(0, 1, MaxOpen: true),
        ["--lr"] = new(0, double.PositiveInfinity, MinOpen: true),
        ["--weight-decay"] = Interval.AtLeast(0),
        ["--tolerance"] = Interval.AtLeast(0),
        ["--round-to"] = Interval.AtLeast(1),
        ["--batch-size"] = Interval.AtLeast(1),
        ["--epochs"] = Interval.AtLeast(0),
        ["--finetune-epochs"] = Interval.AtLeast(0),
        ["--finetune-examples"] = Interval.AtLeast(1),
        ["--rounds"] = Interval.AtLeast(0),
        ["--samples"] = Interval.AtLeast(1),
        ["--steps"] = Interval.AtLeast(1),
        ["--calibration"] = Interval.AtLeast(0),
        ["--temperature"] = new(0, double.PositiveInfinity, MinOpen: true),
        ["--blocks"] = Interval.AtLeast(0),
        ["--threads"] = Interval.AtLeast(0),
        ["--context"] = Interval.AtLeast(2),
        ["--gpt-layers"] = Interval.AtLeast(1),
        ["--gpt-heads"] = Interval.AtLeast(1),
        ["--gpt-width"] = Interval.AtLeast(1),
        ["--at-init-batches"] = Interval.AtLeast(1),
        ["--at-init-rounds"] = Interval.AtLeast(1),
        ["--penalty"] = Interval.AtLeast(0),
        ["--penalty-warmup"] = Interval.AtLeast(0),
        ["--update-every"] = Interval.AtLeast(1),
        ["--drop-fraction"] = new(0, 1),
        ["--soft-filter-pruning"] = new(0, 1, MaxOpen: true),
        ["--surgery-gamma"] = Interval.AtLeast(0),
        ["--surgery-power"] = Interval.AtLeast(0),
        ["--surgery-stop"] = new(0, double.PositiveInfinity, MinOpen: true),
        ["--seeds"] = Interval.AtLeast(1),
        ["--jobs"] = Interval.AtLeast(1),
        ["--slurm-cpus"] = Interval.AtLeast(1),
    };

    /// <summary>Adds the checks to every numeric option of <paramref name="command"/> and its subcommands.</summary>
    public static void Attach(Command command)
    {
        foreach (var option in command.Options)
        {
            var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
            if (type == typeof(double) || type == typeof(float) || type == typeof(int) || type == typeof(long))
                option.Validators.Add(result => Check(option.Name, result));
        }
        foreach (var sub in command.Subcommands) Attach(sub);
    }

    /// <summary>The message for a value that is not finite or out of range, or null when it is allowed.</summary>
    public static string? Problem(string name, double value)
    {
        if (!double.IsFinite(value)) return $"{name} must be a finite number, got {Text(value)}";
        if (Ranges.TryGetValue(name, out var range) && !range.Contains(value))
            return $"{name} must be {range}, got {Text(value)}";
        return null;
    }

    /// <summary>
    /// Rewrites System.CommandLine's parse error for a value of the wrong type (which names .NET types such as
    /// <c>System.Nullable`1[System.Double]</c>) into the option and what it expects.
    /// </summary>
    public static string Explain(string parseError)
    {
        var match = WrongType().Match(parseError);
        if (!match.Success) return parseError;
        string expected = match.Groups["type"].Value switch
        {
            var t when t.Contains("Double", StringComparison.Ordinal) || t.Contains("Single", StringComparison.Ordinal) => "a number",
            var t when t.Contains("Int", StringComparison.Ordinal) => "a whole number",
            var t when t.Contains("Boolean", StringComparison.Ordinal) => "true or false",
            var t when t.Contains("FileInfo", StringComparison.Ordinal) => "a file path",
            var t => t,
        };
        return $"{match.Groups["option"].Value}: '{match.Groups["value"].Value}' is not {expected}";
    }

    static void Check(string name, OptionResult result)
    {
        if (result.Implicit || result.Tokens.Count == 0) return;
        object? value;
        try
        {
            value = result.GetValueOrDefault<object?>();
        }
        catch (InvalidOperationException)
        {
            return; // not a number at all: the parser reports that itself (see Explain)
        }
        double? number = value switch
        {
            double d => d,
            float f => f,
            int i => i,
            long l => l,
            _ => null,
        };
        if (number is { } n && Problem(name, n) is { } problem) result.AddError(problem);
    }

    static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial Regex WrongType();

    /// <summary>An interval of allowed values; each end closed unless marked open.</summary>
    sealed record Interval(double Min, double Max, bool MinOpen = false, bool MaxOpen = false)
    {
        public static Interval AtLeast(double min) => new(min, double.PositiveInfinity);

        public bool Contains(double value) =>
            (MinOpen ? value > Min : value >= Min) && (MaxOpen ? value < Max : value <= Max);

        public override string ToString()
        {
            if (double.IsPositiveInfinity(Max)) return MinOpen ? $"greater than {Text(Min)}" : $"at least {Text(Min)}";
            return $"in {(MinOpen ? '(' : '[')}{Text(Min)}, {Text(Max)}{(MaxOpen ? ')' : ']')}";
        }
    }
}
