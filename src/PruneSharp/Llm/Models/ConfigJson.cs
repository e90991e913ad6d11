using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PruneSharp.Llm.Models;

/// <summary>
/// Typed reads of one <c>config.json</c> object. A key written as <c>null</c> counts as absent (transformers writes
/// <c>"n_inner": null</c> for "the default"); every problem is a <see cref="ModelConfigException"/> naming the key.
/// </summary>
sealed class ConfigJson(JsonObject json, string source, string prefix = "")
{
    public string Source { get; } = source;

    public bool Has(string key) => json[key] is not null;

    public ModelConfigException Error(string key, string problem) => new(Source, prefix + key, problem);

    public long Integer(string key) => OptionalInteger(key) ?? throw Error(key, "missing");

    public long? OptionalInteger(string key)
    {
        if (OptionalNumber(key) is not { } value) return null;
        if (value != Math.Floor(value) || Math.Abs(value) > 1L << 53) throw Error(key, $"expected an integer, got {value}");
        return (long)value;
    }

    public long PositiveInteger(string key) => Positive(key, Integer(key));

    public long? OptionalPositiveInteger(string key) => OptionalInteger(key) is { } value ? Positive(key, value) : null;

    long Positive(string key, long value) => value > 0 ? value : throw Error(key, $"must be positive, got {value}");

    public double Number(string key, double fallback) => OptionalNumber(key) ?? fallback;

    public double? OptionalNumber(string key)
    {
        var node = json[key];
        if (node is null) return null;
        // The JSON text, not GetValue<double>: a JsonObject built in code holds its numbers as long, int, ... values.
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            double value = double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);
            // JSON numbers past double's range (1e400) parse as infinity.
            return double.IsFinite(value) ? value : throw Error(key, $"{v.ToJsonString()} is out of range");
        }
        throw Error(key, $"expected a number, got {node.ToJsonString()}");
    }

    public bool Flag(string key, bool fallback)
    {
        var node = json[key];
        if (node is null) return fallback;
        if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
        throw Error(key, $"expected true or false, got {node.ToJsonString()}");
    }

    public string? OptionalText(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        throw Error(key, $"expected a string, got {node.ToJsonString()}");
    }

    public string Text(string key, string fallback) => OptionalText(key) ?? fallback;

    /// <summary>A nested object (<c>rope_scaling</c>), read with the same rules; its keys are reported as <c>outer.inner</c>.</summary>
    public ConfigJson? OptionalObject(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonObject o) return new ConfigJson(o, Source, $"{prefix}{key}.");
        throw Error(key, $"expected an object, got {node.ToJsonString()}");
    }

    public IReadOnlyList<string>? OptionalTextList(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonArray a && a.All(e => e is JsonValue v && v.GetValueKind() == JsonValueKind.String))
            return a.Select(e => e!.GetValue<string>()).ToList();
        throw Error(key, $"expected a list of strings, got {node.ToJsonString()}");
    }
}
