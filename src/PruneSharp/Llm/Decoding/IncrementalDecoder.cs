using System.Runtime.InteropServices;
using PruneSharp.Llm.Models;
using PruneSharp.Sparse;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Decoding;

/// <summary>
/// Token-by-token decoding of one sequence (batch 1) with a <see cref="KeyValueCache"/>: <see cref="Prefill"/> runs the
/// prompt through every layer at once, <see cref="Step"/> one token at a time, each giving the logits the full-sequence
/// <see cref="DecoderModel.Logits"/> gives at those positions. Every layer stays in memory; with
/// <see cref="DecodeOptions.Sparse"/> the pruned projections run from compact matrices (see <see cref="Plans"/>) and
/// their dense weights are freed.
/// </summary>
/// <remarks>
/// At batch 1 a step reads every weight once for a single multiply-add each, so its time is the time to stream the
/// weights from memory: a 70 %-sparse <see cref="BitmapMatrix"/> holds 0.3 × 4 + 2/16 = 1.325 bytes per dense element
/// (CSR with 16-bit column indices 0.3 × 6 = 1.8) against float32's 4. The output head stays dense (pruning leaves it alone; a tied head is the embedding table).
/// </remarks>
public sealed class IncrementalDecoder : IDisposable
{
    readonly DecoderModel _model;
    readonly DecoderLayer[] _layers;

    IncrementalDecoder(DecoderModel model, DecoderLayer[] layers, IReadOnlyList<ProjectionPlan> plans)
    {
        _model = model;
        _layers = layers;
        Plans = plans;
        Cache = new KeyValueCache(layers.Length);
    }

    /// <summary>
    /// Loads every layer of <paramref name="model"/> and, with <see cref="DecodeOptions.Sparse"/>, compacts the
    /// projections that qualify. The model must outlive the decoder (it holds the embeddings and the head).
    /// </summary>
    /// <exception cref="ArgumentException">Bad options.</exception>
    public static IncrementalDecoder Load(DecoderModel model, DecodeOptions options, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (options.MinSparsity is < 0 or > 1) throw new ArgumentException($"MinSparsity must lie in [0, 1], got {options.MinSparsity}");
        if (options.Threads < 1) throw new ArgumentException($"Threads must be at least 1, got {options.Threads}");
        if (options.MeasureRounds < 0) throw new ArgumentException($"MeasureRounds must not be negative, got {options.MeasureRounds}");
        var layers = new List<DecoderLayer>();
        var plans = new List<ProjectionPlan>();
        try
        {
            for (int i = 0; i < model.LayerCount; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                var layer = model.LoadLayer(i);
                layers.Add(layer);
                foreach (var site in layer.Linears) plans.Add(Plan(site, options));
            }
        }
        catch
        {
            foreach (var layer in layers) layer.Dispose();
            throw;
        }
        return new IncrementalDecoder(model, [.. layers], plans);
    }

    /// <summary>How each projection runs, layer after layer in the order data reaches them.</summary>
    public IReadOnlyList<ProjectionPlan> Plans { get; }

    /// <summary>The cached keys and values of the tokens decoded so far.</summary>
    public KeyValueCache Cache { get; }

    /// <summary>The model decoded.</summary>
    public DecoderModel Model => _model;

    /// <summary>
    /// Weight bytes one token's step reads: every projection in its format and the output head (norms and the single
    /// embedding row it looks up are left out: they are a few rows).
    /// </summary>
    public long WeightBytesPerToken => Plans.Sum(p => p.Bytes) + _model.Config.VocabularySize * _model.Config.HiddenSize * sizeof(float);

    /// <summary>
    /// Appends <paramref name="tokens"/> to the sequence (all in one pass) and returns their logits [T, V] (float32;
    /// the caller owns them).
    /// </summary>
    /// <exception cref="ArgumentException">No tokens, an id outside the vocabulary, or more positions than learned positions allow.</exception>
    public Tensor Prefill(IReadOnlyList<int> tokens)
    {
        if (tokens.Count == 0) throw new ArgumentException("prefill needs at least one token", nameof(tokens));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var ids = tensor(tokens.Select(t => (long)t).ToArray(), new long[] { 1, tokens.Count });
        var hidden = _model.Embed(ids, Cache.Length);
        for (int i = 0; i < _layers.Length; i++) hidden = _layers[i].Step(hidden, Cache[i]);
        return _model.Head(hidden)[0].MoveToOuterDisposeScope();
    }

    /// <summary>Appends one token and returns its logits [V] (the caller owns them).</summary>
    public Tensor Step(int token)
    {
        using var logits = Prefill([token]);
        return logits[0];
    }

    /// <summary>Frees the layers and the cache (not the model).</summary>
    public void Dispose()
    {
        Cache.Dispose();
        foreach (var layer in _layers) layer.Dispose();
    }

    /// <summary>Chooses the site's format and, for a compact one, switches the site over.</summary>
    static ProjectionPlan Plan(LinearSite site, DecodeOptions options)
    {
        using var scope = NewDisposeScope();
        long rows = site.OutFeatures, columns = site.InFeatures;
        var weight = site.Weight;
        double sparsity = weight.eq(0).sum().item<long>() / (double)weight.numel();
        ProjectionPlan Dense(KernelMeasurement? measurement = null) =>
            new(site.TensorName, rows, columns, sparsity, "dense", site.WeightBytes, measurement);
        if (!options.Sparse || sparsity < options.MinSparsity || weight.numel() == 0) return Dense();

        SparseMatrix matrix = Compact(weight);
        KernelMeasurement? measured = null;
        if (options.MeasureRounds > 0)
        {
            using var x = randn(1, columns);
            measured = KernelChoice.Measure(
                () => { using var y = nn.functional.linear(x, weight); },
                () => { using var y = SparseKernels.Linear(matrix, x, options.Threads); },
                options.MeasureRounds);
            if (measured.Faster == KernelKind.Dense) return Dense(measured);
        }
        site.Compact(matrix, options.Threads);
        return new(site.TensorName, rows, columns, sparsity, matrix.Format, site.WeightBytes, measured);
    }

    /// <summary>
    /// The compact format: bitmap or CSR for any pattern, as <see cref="UnstructuredFormat"/> measured them (CSR from 86 %
    /// sparsity on), or N:M when every group fits one of <see cref="NmMatrix.Patterns"/> and it stores fewer bytes than that.
    /// </summary>
    static SparseMatrix Compact(Tensor weight)
    {
        if (weight.dtype != ScalarType.Float32) throw new ArgumentException($"a compact projection is made from a float32 weight, got {weight.dtype}");
        int rows = checked((int)weight.shape[0]), columns = checked((int)weight.shape[1]);
        using var contiguous = weight.detach().cpu().contiguous();
        var values = MemoryMarshal.Cast<byte, float>(contiguous.bytes);
        long nonZeros = 0;
        foreach (float value in values) if (value != 0) nonZeros++;
        var pattern = NmMatrix.FindPattern(values, rows, columns);
        if (pattern is var (n, m) && NmMatrix.BytesFor(rows, columns, n, m) < UnstructuredFormat.BytesFor(rows, columns, nonZeros)) return NmMatrix.FromDense(values, rows, columns, n, m);
        return UnstructuredFormat.FromDense(values, rows, columns);
    }
}
