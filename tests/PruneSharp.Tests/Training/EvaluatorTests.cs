using PruneSharp.Engine;
using PruneSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Training;

public class EvaluatorTests
{
    public EvaluatorTests() => TorchEngine.EnsureLoaded();

    [Fact]
    public void Classification_metrics_match_a_naive_count()
    {
        var model = TinyModels.Mlp(3);
        model.train();
        var data = TinyModels.Columns(50, 3);
        var metrics = Evaluator.Classify(model, data, batchSize: 7);
        Assert.True(model.training);

        model.eval();
        int top1 = 0;
        double loss = 0;
        for (int i = 0; i < data.Count; i++)
        {
            using var batch = data.GetBatch([i]);
            var logits = model.call(batch.Inputs).data<float>().ToArray();
            int best = Array.IndexOf(logits, logits.Max());
            if (best == data.Label(i)) top1++;
            double logSum = Math.Log(logits.Sum(l => Math.Exp(l)));
            loss += logSum - logits[data.Label(i)];
        }
        Assert.Equal(top1 / 50.0, metrics.Top1, 12);
        Assert.Equal(1.0, metrics.Top5);
        Assert.Equal(loss / 50, metrics.Loss, 5);
    }

    [Fact]
    public void Uniform_model_has_the_vocabulary_size_as_perplexity()
    {
        var tokens = Enumerable.Range(0, 101).Select(i => i * 7 % 13).ToArray();
        var result = Evaluator.Perplexity(new TinyModels.Uniform(13), tokens, contextLength: 16);
        Assert.Equal(13, result.Perplexity, 4);
        Assert.Equal(100, result.TokenCount);
        Assert.Contains("non-overlapping", result.Protocol);
    }

    [Theory]
    [InlineData(16, 16)]
    [InlineData(16, 5)]
    [InlineData(7, 1)]
    public void Every_token_is_scored_once_whatever_the_stride(int context, int stride)
    {
        manual_seed(4);
        var model = new TinyModels.Bigram(11);
        var tokens = Enumerable.Range(0, 60).Select(i => (i * i + 3) % 11).ToArray();
        var result = Evaluator.Perplexity(model, tokens, context, stride, batchSize: 3);
        Assert.Equal(59, result.TokenCount);
        Assert.Equal(stride, result.Stride);

        // A bigram model ignores context, so the answer is the plain average over consecutive pairs.
        using var logits = model.call(tensor(tokens.Select(t => (long)t).ToArray(), [1, 60]));
        var values = logits.data<float>().ToArray();
        double nll = 0;
        for (int t = 0; t < 59; t++)
        {
            var row = values.AsSpan(t * 11, 11).ToArray();
            nll += Math.Log(row.Sum(l => Math.Exp(l))) - row[tokens[t + 1]];
        }
        Assert.Equal(nll / 59, result.MeanNegativeLogLikelihood, 5);
        Assert.Equal(Math.Exp(nll / 59), result.Perplexity, 4);
    }

    [Fact]
    public void Stride_outside_the_window_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Evaluator.Perplexity(new TinyModels.Uniform(3), [0, 1, 2], 4, stride: 5));
        Assert.Throws<ArgumentException>(() => Evaluator.Perplexity(new TinyModels.Uniform(3), [0, 1, 5], 4));
    }
}
