using PruneSharp.Data;
using PruneSharp.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Training;

/// <summary>Accuracy and loss of a classifier on a data set.</summary>
/// <param name="Top1">Fraction of examples whose highest logit is the label.</param>
/// <param name="Top5">Fraction whose label is among the five highest logits (among all, if fewer than five classes).</param>
/// <param name="Loss">Mean loss per example.</param>
/// <param name="Count">Examples evaluated.</param>
public sealed record ClassificationMetrics(double Top1, double Top5, double Loss, int Count);

/// <summary>Perplexity of a language model on a token stream.</summary>
/// <param name="Perplexity"><c>exp(MeanNegativeLogLikelihood)</c>.</param>
/// <param name="MeanNegativeLogLikelihood">Mean negative log-likelihood per predicted token, in nats.</param>
/// <param name="TokenCount">Tokens predicted (every token but the first, each scored once).</param>
/// <param name="ContextLength">Window length fed to the model.</param>
/// <param name="Stride">Distance between window starts (equal to <paramref name="ContextLength"/> for non-overlapping windows).</param>
/// <param name="Protocol">The protocol in words, for reports.</param>
public sealed record PerplexityResult(double Perplexity, double MeanNegativeLogLikelihood, long TokenCount, int ContextLength, int Stride, string Protocol);

/// <summary>Evaluates models without training them (gradients off, evaluation mode; the model's mode is restored).</summary>
public static class Evaluator
{
    /// <summary>Top-1 and top-5 accuracy and mean loss of a classifier over every example of <paramref name="data"/>.</summary>
    /// <param name="model">Maps a batch of inputs to <c>[N, classes]</c> logits.</param>
    /// <param name="data">Labelled examples (no augmentation is applied).</param>
    /// <param name="batchSize">Examples per forward pass.</param>
    /// <param name="loss">Loss to average (default: cross-entropy).</param>
    /// <param name="cancellation">Stops between batches with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">The data set is empty or the outputs are not <c>[N, classes]</c> logits.</exception>
    public static ClassificationMetrics Classify(nn.Module<Tensor, Tensor> model, IDataset data, int batchSize = 256,
        LossFunction? loss = null, CancellationToken cancellation = default)
    {
        TorchEngine.EnsureLoaded();
        if (data.Count == 0) throw new ArgumentException("cannot evaluate on an empty data set");
        loss ??= Losses.CrossEntropy;
        var plan = new BatchPlan(batchSize, Shuffle: false);
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        long top1 = 0, top5 = 0;
        double lossSum = 0;
        using var mode = new EvaluationMode(model);
        foreach (var indices in plan.Indices(data.Count, 0))
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var batch = data.GetBatch(indices);
            var (inputs, targets) = (batch.Inputs.to(device), batch.Targets.to(device));
            var output = model.call(inputs);
            if (output.dim() != 2 || targets.dim() != 1)
                throw new ArgumentException($"a classifier must map {batch.Count} inputs to [{batch.Count}, classes] logits for [{batch.Count}] labels; got [{string.Join(",", output.shape)}]");
            lossSum += loss(output, targets).ToDouble() * batch.Count;
            int k = (int)Math.Min(5, output.shape[1]);
            var best = output.topk(k, dim: 1).indexes;
            var hits = best.eq(targets.unsqueeze(1));
            top1 += hits[.., 0].sum().item<long>();
            top5 += hits.any(1).sum().item<long>();
        }
        return new ClassificationMetrics((double)top1 / data.Count, (double)top5 / data.Count, lossSum / data.Count, data.Count);
    }

    /// <summary>
    /// Perplexity of <paramref name="model"/> on <paramref name="tokens"/> (e.g. <see cref="TextCorpus.HeldOutTokens"/>).
    /// Windows of <paramref name="contextLength"/> tokens start every <paramref name="stride"/> tokens; the first window
    /// scores all its predictions, each later one only those past the previous window's end, so every token after the
    /// first is scored exactly once. With <c>stride = contextLength</c> (the default) the windows do not overlap;
    /// a smaller stride gives each scored token more context.
    /// </summary>
    /// <param name="model">Maps <c>[N, T]</c> int64 token ids to <c>[N, T, vocabulary]</c> next-token logits.</param>
    /// <param name="tokens">The token stream (at least 2 tokens).</param>
    /// <param name="contextLength">Tokens per window.</param>
    /// <param name="stride">Distance between window starts, in <c>[1, contextLength]</c>; default <paramref name="contextLength"/>.</param>
    /// <param name="batchSize">Windows per forward pass.</param>
    /// <param name="cancellation">Stops between batches with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">Bad lengths, or outputs that are not <c>[N, T, vocabulary]</c> logits covering every token id.</exception>
    public static PerplexityResult Perplexity(nn.Module<Tensor, Tensor> model, IReadOnlyList<int> tokens, int contextLength, int? stride = null,
        int batchSize = 8, CancellationToken cancellation = default)
    {
        TorchEngine.EnsureLoaded();
        int step = stride ?? contextLength;
        if (contextLength <= 0) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "context length must be positive");
        if (step <= 0 || step > contextLength) throw new ArgumentOutOfRangeException(nameof(stride), step, $"stride must be in [1, {contextLength}]");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive");
        if (tokens.Count < 2) throw new ArgumentException($"perplexity needs at least 2 tokens, got {tokens.Count}");

        // Window w: inputs tokens[begin, begin + length), targets shifted by one; positions from `first` on are scored.
        var windows = new List<(int Begin, int Length, int First)>();
        int predictions = tokens.Count - 1, scoredUpTo = 0;
        for (int begin = 0; scoredUpTo < predictions; begin += step)
        {
            int length = Math.Min(contextLength, predictions - begin);
            windows.Add((begin, length, scoredUpTo - begin));
            scoredUpTo = begin + length;
        }

        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        double nll = 0;
        long counted = 0;
        using var mode = new EvaluationMode(model);
        foreach (var group in windows.GroupBy(w => w.Length))
            foreach (var chunk in group.Chunk(batchSize))
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                int length = group.Key;
                var inputs = new long[chunk.Length * length];
                var targets = new long[chunk.Length * length];
                var scored = new bool[chunk.Length * length];
                for (int i = 0; i < chunk.Length; i++)
                    for (int t = 0; t < length; t++)
                    {
                        inputs[i * length + t] = tokens[chunk[i].Begin + t];
                        targets[i * length + t] = tokens[chunk[i].Begin + t + 1];
                        scored[i * length + t] = t >= chunk[i].First;
                    }
                long[] shape = [chunk.Length, length];
                var output = model.call(tensor(inputs, shape).to(device));
                if (output.dim() != 3 || output.shape[0] != chunk.Length || output.shape[1] != length)
                    throw new ArgumentException($"a language model must map [{chunk.Length},{length}] token ids to [{chunk.Length},{length},vocabulary] logits; got [{string.Join(",", output.shape)}]");
                long vocabulary = output.shape[2];
                if (targets.Max() >= vocabulary || inputs.Min() < 0)
                    throw new ArgumentException($"token ids reach {targets.Max()} but the model's vocabulary has {vocabulary} entries");
                var losses = nn.functional.cross_entropy(output.reshape(-1, vocabulary), tensor(targets).to(device), reduction: nn.Reduction.None);
                var mask = tensor(scored).to(device);
                nll += losses.masked_select(mask).to_type(ScalarType.Float64).sum().ToDouble();
                counted += scored.Count(s => s);
            }
        double mean = nll / counted;
        string protocol = step == contextLength
            ? $"non-overlapping windows of {contextLength} tokens, {counted} tokens scored"
            : $"sliding windows of {contextLength} tokens with stride {step} (each token scored once, with at least {contextLength - step} tokens of context after the first window), {counted} tokens scored";
        return new PerplexityResult(Math.Exp(mean), mean, counted, contextLength, step, protocol);
    }

    /// <summary>Puts a module in evaluation mode with gradients off, and restores both when disposed.</summary>
    sealed class EvaluationMode : IDisposable
    {
        readonly nn.Module _module;
        readonly bool _wasTraining;
        readonly IDisposable _noGrad;

        public EvaluationMode(nn.Module module)
        {
            _module = module;
            _wasTraining = module.training;
            _noGrad = no_grad();
            module.eval();
        }

        public void Dispose()
        {
            _noGrad.Dispose();
            _module.train(_wasTraining);
        }
    }
}
