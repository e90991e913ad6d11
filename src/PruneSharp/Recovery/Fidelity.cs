using TorchSharp;
using PruneSharp.Engine;
using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Recovery;

/// <summary>How closely one output of a model follows the same output of its reference (the dense model).</summary>
/// <param name="Name">The output.</param>
/// <param name="Kind">Logits or embedding, as <see cref="OutputKinds.Of"/> reads the reference.</param>
/// <param name="Shape">The output's shape for one batch.</param>
/// <param name="MeanCosine">Mean cosine similarity of the vectors (<see cref="OutputKinds.Vectors"/>: rows, positions or whole feature maps).</param>
/// <param name="MinCosine">The lowest cosine similarity of one vector.</param>
/// <param name="RelativeError"><c>‖a − b‖ / ‖b‖</c> over all examples, b the reference's output.</param>
/// <param name="Top1Agreement">Logits: the fraction of vectors whose highest score is at the same index in both.</param>
/// <param name="PairwiseSpearman">
/// Embeddings: Spearman's rank correlation between the two models' cosine similarities of every pair of examples
/// (of the first <see cref="Fidelity.PairExamples"/>): 1 when the model ranks which examples are alike as the reference does.
/// </param>
/// <param name="Examples">Examples compared.</param>
public sealed record OutputFidelity(string Name, OutputKind Kind, IReadOnlyList<long> Shape, double MeanCosine, double MinCosine, double RelativeError,
    double? Top1Agreement, double? PairwiseSpearman, int Examples);

/// <summary>Fidelity of a pruned model to its dense reference on the same inputs, output by output (matched by name).</summary>
public static class Fidelity
{
    /// <summary>How many examples (the first ones) the pairwise similarities of embeddings are taken over.</summary>
    public const int PairExamples = 512;

    /// <summary>Compares every output of <paramref name="model"/> with <paramref name="reference"/>'s on all of <paramref name="inputs"/>.</summary>
    /// <exception cref="ArgumentException">The data is empty, or the outputs differ in name or shape.</exception>
    public static IReadOnlyList<OutputFidelity> Measure(GraphModule model, GraphModule reference, IInputSource inputs, int batchSize = 256,
        CancellationToken cancellation = default)
    {
        TorchEngine.EnsureLoaded();
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive");
        if (inputs.Count == 0) throw new ArgumentException("fidelity needs inputs; the data is empty");
        var pairs = OutputPairs.Match(model, reference, "model", "reference");
        var sums = pairs.Select(_ => new Sums()).ToArray();
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        bool[] wasTraining = [model.training, reference.training];
        model.eval();
        reference.eval();
        try
        {
            using var noGrad = no_grad();
            foreach (var chunk in Enumerable.Range(0, inputs.Count).Chunk(batchSize))
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var batch = inputs.Inputs(chunk).Select(t => t.to(device)).ToArray();
                var outputs = model.Run(batch);
                var referenceOutputs = reference.Run(batch);
                for (int k = 0; k < pairs.Count; k++)
                {
                    var (name, m, r) = pairs[k];
                    OutputPairs.CheckShape(name, outputs[m].shape, referenceOutputs[r].shape, "model", "reference");
                    sums[k].Add(reference.Graph, name, outputs[m].to_type(ScalarType.Float64), referenceOutputs[r].to_type(ScalarType.Float64));
                }
            }
        }
        finally
        {
            model.train(wasTraining[0]);
            reference.train(wasTraining[1]);
        }
        return pairs.Select((p, k) => sums[k].Result(p.Name, inputs.Count)).ToList();
    }

    /// <summary>The cosine similarities of every pair of rows of <paramref name="vectors"/> <c>[N, D]</c> (i &lt; j, row by row).</summary>
    public static double[] PairwiseCosines(Tensor vectors)
    {
        using var scope = NewDisposeScope();
        var unit = nn.functional.normalize(vectors.to_type(ScalarType.Float64), p: 2, dim: 1, eps: 1e-12);
        var similarity = unit.matmul(unit.t());
        long n = vectors.shape[0];
        var upper = similarity.masked_select(ones(n, n, dtype: ScalarType.Bool).triu(1));
        return upper.data<double>().ToArray();
    }

    /// <summary>Spearman's rank correlation: the Pearson correlation of the ranks (ties get their mean rank). NaN when either side is constant.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"Spearman's correlation needs samples of one size, got {x.Count} and {y.Count}");
        var (rx, ry) = (Ranks(x), Ranks(y));
        double mean = (x.Count + 1) / 2.0, sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Count; i++)
        {
            double dx = rx[i] - mean, dy = ry[i] - mean;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxy / Math.Sqrt(sxx * syy);
    }

    static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1;
            for (int i = start; i <= end; i++) ranks[order[i]] = rank;
            start = end + 1;
        }
        return ranks;
    }

    /// <summary>Running sums of one output over the batches.</summary>
    sealed class Sums
    {
        OutputKind? _kind;
        long[] _shape = [];
        double _cosine, _minCosine = double.PositiveInfinity, _error, _norm;
        long _vectors, _agree;
        readonly List<Tensor> _model = new(), _reference = new();
        int _kept;

        public void Add(Graph.Graph graph, string name, Tensor model, Tensor reference)
        {
            _kind ??= OutputKinds.Of(graph, name, reference);
            if (_shape.Length == 0) _shape = reference.shape;
            var (a, b) = (OutputKinds.Vectors(model), OutputKinds.Vectors(reference));
            var cosine = nn.functional.cosine_similarity(a, b, dim: 1, eps: 1e-12);
            _cosine += cosine.sum().ToDouble();
            _minCosine = Math.Min(_minCosine, cosine.min().ToDouble());
            _vectors += cosine.shape[0];
            _error += (model - reference).square().sum().ToDouble();
            _norm += reference.square().sum().ToDouble();
            if (_kind == OutputKind.Logits) _agree += a.argmax(1).eq(b.argmax(1)).sum().ToInt64();
            else if (_kept < PairExamples && model.dim() > 0)
            {
                long take = Math.Min(PairExamples - _kept, model.shape[0]);
                _model.Add(model[..(int)take].reshape(take, -1).detach().clone().MoveToOuterDisposeScope());
                _reference.Add(reference[..(int)take].reshape(take, -1).detach().clone().MoveToOuterDisposeScope());
                _kept += (int)take;
            }
        }

        public OutputFidelity Result(string name, int examples)
        {
            double? spearman = null;
            if (_kind == OutputKind.Embedding && _kept >= 3)
            {
                using var scope = NewDisposeScope();
                spearman = Spearman(PairwiseCosines(cat(_model, 0)), PairwiseCosines(cat(_reference, 0)));
            }
            foreach (var t in _model.Concat(_reference)) t.Dispose();
            return new OutputFidelity(name, _kind ?? OutputKind.Embedding, _shape, _cosine / _vectors, _minCosine,
                _norm > 0 ? Math.Sqrt(_error) / Math.Sqrt(_norm) : Math.Sqrt(_error) == 0 ? 0 : double.PositiveInfinity,
                _kind == OutputKind.Logits ? (double)_agree / _vectors : null, spearman, examples);
        }
    }
}
