using System.Globalization;

namespace PruneSharp.Training;

/// <summary>
/// Checks that a dense model's score is plausible before it is pruned or reported: a trained classifier near chance,
/// or a language model whose perplexity is near its vocabulary size, almost always means its inputs are not what it
/// was trained on.
/// </summary>
public static class Plausibility
{
    /// <summary>
    /// A warning if top-1 accuracy is at most twice chance (1 / <paramref name="classes"/>), naming the likely causes;
    /// null otherwise (or with fewer than 2 classes).
    /// </summary>
    public static string? Classification(ClassificationMetrics metrics, int classes)
    {
        if (classes < 2 || metrics.Top1 > 2.0 / classes) return null;
        return $"top-1 accuracy {Percent(metrics.Top1)} is near chance ({Percent(1.0 / classes)} for {classes} classes): " +
            "if the model is trained, its inputs are probably not prepared as in training: normalisation (--normalize MEAN/STD), " +
            "channel order (RGB vs BGR), input range ([0, 1] vs [0, 255])";
    }

    /// <summary>A warning if the perplexity is at least half the vocabulary size, naming the likely causes; null otherwise.</summary>
    public static string? Perplexity(PerplexityResult result, long vocabulary)
    {
        if (vocabulary < 2 || result.Perplexity < vocabulary / 2.0) return null;
        return $"perplexity {result.Perplexity.ToString("F1", CultureInfo.InvariantCulture)} is near the vocabulary size ({vocabulary}), what a model that knows nothing scores: " +
            "if the model is trained, check that the tokenizer (--tokenizer) and context length are those it was trained with";
    }

    static string Percent(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
