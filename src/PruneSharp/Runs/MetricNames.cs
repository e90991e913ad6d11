namespace PruneSharp.Runs;

/// <summary>
/// The metric names the report and <c>runs compare</c> know. Any other name may be stored too; these are the ones
/// that get curves and table columns. Fractions are in [0, 1], latencies in milliseconds. The steps of an <c>lth</c>
/// run are its rounds (step 0 the dense model), each with <see cref="Density"/> and <see cref="Accuracy"/>: the
/// report draws the density curve from them.
/// </summary>
public static class MetricNames
{
    /// <summary>Top-1 accuracy on the evaluation set, a fraction.</summary>
    public const string Accuracy = "accuracy";

    /// <summary>Top-1 accuracy of the dense model before pruning, a fraction.</summary>
    public const string DenseAccuracy = "dense_accuracy";

    /// <summary>Evaluation loss.</summary>
    public const string Loss = "loss";

    /// <summary>Training loss (a per-step metric).</summary>
    public const string TrainLoss = "train_loss";

    /// <summary>Perplexity of a language model.</summary>
    public const string Perplexity = "perplexity";

    /// <summary>Perplexity of the dense language model.</summary>
    public const string DensePerplexity = "dense_perplexity";

    /// <summary>Agreement of the pruned model with the dense one (e.g. cosine similarity of outputs), for unlabeled data.</summary>
    public const string Fidelity = "fidelity";

    /// <summary>Fraction of the counted parameters that are zero.</summary>
    public const string Sparsity = "sparsity";

    /// <summary>Fraction of the counted parameters that are not zero (1 − sparsity); an LTH round's x value.</summary>
    public const string Density = "density";

    /// <summary>Number of parameters of the model written (smaller than <see cref="DenseParameters"/> after structured pruning).</summary>
    public const string Parameters = "parameters";

    /// <summary>Number of parameters of the model before pruning.</summary>
    public const string DenseParameters = "dense_parameters";

    /// <summary>Number of non-zero parameters.</summary>
    public const string NonZeros = "nonzeros";

    /// <summary>Multiply-accumulates of one forward pass of the dense architecture.</summary>
    public const string Macs = "macs";

    /// <summary>Multiply-accumulates of the pruned model that touch non-zero weights (after structured pruning: of the smaller model).</summary>
    public const string EffectiveMacs = "effective_macs";

    /// <summary>Median latency of one forward pass, milliseconds.</summary>
    public const string LatencyMs = "latency_ms";

    /// <summary>Median latency of the dense model, milliseconds.</summary>
    public const string DenseLatencyMs = "dense_latency_ms";

    /// <summary>Learning rate (a per-step metric).</summary>
    public const string LearningRate = "learning_rate";
}
