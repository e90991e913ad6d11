using System.Text.Json;
using PruneSharp.Data;

namespace PruneSharp.Llm.Tokenizers;

/// <summary>
/// A value inside tokenizer.json with its path from the root (<c>pre_tokenizer.pretokenizers[1].behavior</c>), so that
/// every refusal names the file and the key.
/// </summary>
readonly record struct JsonField(JsonElement Element, string Path, string File)
{
    public bool IsNull => Element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined;

    public DataFormatException Error(string problem) => new(File, $"{Path}: {problem}");

    /// <summary>The <c>type</c> string of a component object.</summary>
    public string Type => String("type");

    public JsonField Get(string key)
    {
        if (Element.ValueKind != JsonValueKind.Object) throw Error($"is a JSON {Element.ValueKind}, expected an object");
        return new(Element.TryGetProperty(key, out var value) ? value : default, Path.Length == 0 ? key : $"{Path}.{key}", File);
    }

    public string String(string key)
    {
        var field = Get(key);
        return field.Element.ValueKind == JsonValueKind.String ? field.Element.GetString()! : throw field.Error("expected a string");
    }

    public string? OptionalString(string key)
    {
        var field = Get(key);
        return field.IsNull ? null : field.Element.ValueKind == JsonValueKind.String ? field.Element.GetString() : throw field.Error("expected a string or null");
    }

    public bool Bool(string key, bool absent)
    {
        var field = Get(key);
        return field.IsNull ? absent : field.Element.ValueKind is JsonValueKind.True or JsonValueKind.False ? field.Element.GetBoolean() : throw field.Error("expected true or false");
    }

    public int Int(string key)
    {
        var field = Get(key);
        return field.Element.ValueKind == JsonValueKind.Number && field.Element.TryGetInt32(out int value) ? value : throw field.Error("expected a 32-bit integer");
    }

    public IEnumerable<JsonField> Items(string key) => Get(key).Items();

    public IEnumerable<JsonField> Items()
    {
        if (Element.ValueKind != JsonValueKind.Array) throw Error("expected an array");
        string path = Path, file = File;
        return Element.EnumerateArray().Select((item, i) => new JsonField(item, $"{path}[{i}]", file)).ToList();
    }

    public IEnumerable<(string Key, JsonField Value)> Properties()
    {
        if (Element.ValueKind != JsonValueKind.Object) throw Error($"is a JSON {Element.ValueKind}, expected an object");
        foreach (var property in Element.EnumerateObject()) yield return (property.Name, new(property.Value, $"{Path}.{property.Name}", File));
    }

    /// <summary>Refuses a key this reader does not implement when it is set to anything but its neutral value(s).</summary>
    public void RequireUnset(string key, params object?[] neutral)
    {
        var field = Get(key);
        if (field.IsNull) return;
        object? value = field.Element.ValueKind switch
        {
            JsonValueKind.String => field.Element.GetString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => field.Element.GetDouble(),
            _ => field.Element.GetRawText(),
        };
        if (!neutral.Any(n => Equals(n, value)))
            throw field.Error($"value {field.Element.GetRawText()} is not supported by PruneSharp's tokenizer.json reader");
    }
}
