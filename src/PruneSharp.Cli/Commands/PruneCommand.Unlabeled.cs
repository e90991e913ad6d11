using System.Globalization;
using PruneSharp.Pipelines;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// How <c>prunesharp prune</c> with unlabeled <c>--data</c> (.npy/.npz arrays, text with a WordPiece tokenizer, a
/// folder of images without classes) shows an unstructured stage's fidelity to the dense model; the library's
/// <see cref="Pipeline"/> runs it.
/// </summary>
static partial class PruneCommand
{
    /// <summary>What an unstructured prune on unlabeled data fed, and how closely the pruned model follows the dense one.</summary>
    /// <param name="Data">The examples, in words.</param>
    /// <param name="Outcome">The library's outcome.</param>
    sealed record UnlabeledReport(string Data, UnlabeledOutcome Outcome)
    {
        public object Json() => new
        {
            examples = Outcome.FidelityExamples,
            outputs = Outcome.FidelityBefore.Select((b, k) => new
            {
                name = b.Name,
                kind = b.Kind.ToString().ToLowerInvariant(),
                cosine_before = b.MeanCosine,
                cosine_after = Outcome.FidelityAfter?[k].MeanCosine,
                min_cosine_before = b.MinCosine,
                min_cosine_after = Outcome.FidelityAfter?[k].MinCosine,
                relative_error_before = b.RelativeError,
                relative_error_after = Outcome.FidelityAfter?[k].RelativeError,
            }),
        };

        public void Print()
        {
            Console.WriteLine($"data: {Data}");
            string Cosine(double c) => c.ToString("F4", CultureInfo.InvariantCulture);
            foreach (var (b, k) in Outcome.FidelityBefore.Select((b, k) => (b, k)))
                Console.WriteLine($"fidelity of {b.Name} to the dense model (mean cosine, first {Outcome.FidelityExamples} inputs, those distilled on): after pruning {Cosine(b.MeanCosine)}" +
                    (Outcome.FidelityAfter is { } after ? $", after distillation {Cosine(after[k].MeanCosine)}" : ""));
        }
    }
}
