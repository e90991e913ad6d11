using System.Globalization;
using System.Text.Json.Nodes;

namespace PruneSharp.Tests.Llm.Models;

/// <summary>Numbers of a config object, whether parsed from text or built in code (where they are int, long or double values).</summary>
static class ConfigNumbers
{
    public static double? OptionalNumber(JsonNode? node) => node is null ? null : double.Parse(node.ToJsonString(), CultureInfo.InvariantCulture);

    public static double Number(JsonNode? node) => OptionalNumber(node) ?? throw new ArgumentNullException(nameof(node));

    public static long? OptionalLong(JsonNode? node) => node is null ? null : long.Parse(node.ToJsonString(), CultureInfo.InvariantCulture);

    public static long Long(JsonNode? node) => OptionalLong(node) ?? throw new ArgumentNullException(nameof(node));
}
