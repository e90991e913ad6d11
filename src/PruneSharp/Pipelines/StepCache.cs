using System.Text.Json;
using PruneSharp.Files;

namespace PruneSharp.Pipelines;

/// <summary>
/// The finished steps of a comparison: each step's row in a JSON file beside the model it wrote, reused while its key
/// matches and the model is present, else computed and written atomically (a killed step leaves no half-written row).
/// </summary>
/// <param name="recompute">Ignore what is stored: compute every step.</param>
/// <param name="status">Receives a line for each reused step.</param>
sealed class StepCache(bool recompute, IProgress<string>? status)
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>The row stored at <paramref name="path"/> if it was made with <paramref name="key"/> and <paramref name="model"/> exists; else computes and stores it.</summary>
    public ComparisonRow Row(string path, string key, string model, Func<ComparisonRow> compute)
    {
        if (!recompute && File.Exists(path) && File.Exists(model))
        {
            try
            {
                if (JsonSerializer.Deserialize<ComparisonRow>(File.ReadAllText(path), Json) is { } row && row.Key == key)
                {
                    status?.Report($"reusing {row.Label} from {path}");
                    return row;
                }
            }
            catch (JsonException)
            {
                // A damaged row is computed again.
            }
        }
        var result = compute();
        AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, result, Json));
        return result;
    }
}
