using System.Globalization;
using PruneSharp.Llm;

namespace PruneSharp.Pipelines;

/// <summary>A status line per decoder layer a checkpoint pipeline finishes: its phase, the layer and the tokens per second.</summary>
sealed class LayerLines(IProgress<string> status) : IProgress<LayerProgress>
{
    public void Report(LayerProgress p) =>
        status.Report($"{p.Phase} layer {p.Layer + 1}/{p.LayerCount}  {p.TokensPerSecond.ToString("F0", CultureInfo.InvariantCulture)} tokens/s");
}
