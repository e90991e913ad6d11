using System.Diagnostics;
using PruneSharp.Llm.Models;
using PruneSharp.Llm.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Llm;

/// <summary>How a target sparsity is split over decoder layers.</summary>
public enum LayerAllocation
{
    /// <summary>Every layer gets the target.</summary>
    Uniform,

    /// <summary>Outlier-weighted (<see cref="OwlAllocation"/>): layers with more activation outliers keep more weights.</summary>
    Owl,
}

/// <summary>What <see cref="LayerwisePruning.Run"/> does.</summary>
public sealed record LlmPruningOptions
{
    /// <summary>How each linear layer is pruned.</summary>
    public required LinearPruningMethod Method { get; init; }

    /// <summary>The target: a fraction of zeros, or N:M.</summary>
    public required SparsityPattern Pattern { get; init; }

    /// <summary>How an unstructured target is split over layers (N:M is always uniform).</summary>
    public LayerAllocation Allocation { get; init; } = LayerAllocation.Uniform;

    /// <summary>OWL's λ: every layer's sparsity stays within the target ± λ.</summary>
    public double OwlLambda { get; init; } = OwlAllocation.DefaultLambda;

    /// <summary>OWL's M: a score above M × the layer's mean score is an outlier.</summary>
    public double OwlThreshold { get; init; } = OwlAllocation.DefaultOutlierThreshold;

    /// <summary>SparseGPT's block size and dampening.</summary>
    public SparseGptOptions SparseGpt { get; init; } = new();

    /// <summary>DSnoT refinement of magnitude or Wanda masks; null for none.</summary>
    public DsnotOptions? Refine { get; init; }

    /// <summary>
    /// Calibration windows per forward pass. The statistics are sums over tokens, so this changes only time and memory:
    /// a pass's intermediates (attention scores [B, heads, L, L], MLP activations [B, L, inner]) are the largest
    /// transient tensors of a run, and 4 windows of 256 tokens keep them under the pruning step's own peak at 1B scale.
    /// </summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>
    /// The element type the checkpoint stores weights in: each pruned weight is rounded to it before the next layer is
    /// calibrated, so that what is propagated (and reported) is what is written.
    /// </summary>
    public ScalarType Storage { get; init; } = ScalarType.Float32;

    /// <summary>Ids [B, T] run through the pruned model as it is built; their logits come back in the report.</summary>
    public Tensor? Probe { get; init; }
}

/// <summary>One pruned linear layer.</summary>
/// <param name="Layer">Decoder layer index.</param>
/// <param name="Name">Its name inside the layer (<c>self_attn.q_proj</c>).</param>
/// <param name="OutFeatures">Rows of the weight.</param>
/// <param name="InFeatures">Columns of the weight.</param>
/// <param name="Sparsity">Fraction of zeros in the pruned weight.</param>
/// <param name="ReconstructionError">‖WX − ŴX‖²/‖WX‖² on the calibration inputs this layer saw.</param>
/// <param name="Seconds">Time to prune it (statistics excluded).</param>
public sealed record LinearPruningReport(int Layer, string Name, long OutFeatures, long InFeatures, double Sparsity, double ReconstructionError, double Seconds);

/// <summary>One pruned decoder layer.</summary>
/// <param name="Layer">Its index.</param>
/// <param name="TargetSparsity">The sparsity asked of its linear layers (differs between layers under OWL).</param>
/// <param name="OutlierRatio">OWL's outlier ratio D_l, when OWL allocated the sparsity.</param>
/// <param name="Linears">Its linear layers.</param>
/// <param name="Seconds">Calibration, pruning and the recomputed outputs.</param>
public sealed record LayerPruningReport(int Layer, double TargetSparsity, double? OutlierRatio, IReadOnlyList<LinearPruningReport> Linears, double Seconds);

/// <summary>The whole run.</summary>
/// <param name="Layers">Per decoder layer.</param>
/// <param name="CalibrationTokens">Calibration tokens every layer saw.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="ProbeLogits">Logits of <see cref="LlmPruningOptions.Probe"/> through the pruned model (owned by the caller), or null.</param>
public sealed record LlmPruningReport(IReadOnlyList<LayerPruningReport> Layers, long CalibrationTokens, double Seconds, Tensor? ProbeLogits)
{
    /// <summary>Fraction of zeros over every pruned linear weight.</summary>
    public double Sparsity
    {
        get
        {
            double zeros = 0, total = 0;
            foreach (var linear in Layers.SelectMany(l => l.Linears))
            {
                double count = (double)linear.OutFeatures * linear.InFeatures;
                zeros += linear.Sparsity * count;
                total += count;
            }
            return total > 0 ? zeros / total : 0;
        }
    }
}

/// <summary>Where a run is.</summary>
/// <param name="Phase"><c>owl</c> (measuring outliers) or <c>prune</c>.</param>
/// <param name="Layer">The layer just finished (0-based).</param>
/// <param name="LayerCount">Layers in the model.</param>
/// <param name="TokensPerSecond">Calibration tokens through this layer per second.</param>
public sealed record LayerProgress(string Phase, int Layer, int LayerCount, double TokensPerSecond);

/// <summary>
/// Retraining-free pruning of a decoder language model, layer by layer, as SparseGPT and Wanda do it: the calibration
/// windows are embedded once; then for each decoder layer in turn its weights are loaded, every linear layer's inputs
/// are observed on the calibration hidden states (accumulated into <see cref="InputStatistics"/>, never held), each
/// linear layer is pruned, and the layer's outputs are recomputed with the pruned weights and passed to the next
/// layer. Only one layer's weights and the calibration hidden states are in memory at a time (the embedding table is
/// released once the windows are embedded).
/// </summary>
public static class LayerwisePruning
{
    /// <summary>Prunes <paramref name="model"/> calibrated on <paramref name="calibration"/> ids [N, L].</summary>
    /// <param name="model">The model; its layers are loaded from its tensor source one at a time.</param>
    /// <param name="calibration">int64 [N, L] windows (<see cref="TokenWindows.Calibration"/>).</param>
    /// <param name="options">Method, target and allocation.</param>
    /// <param name="pruned">Called with each linear layer once its weight holds the pruned values (hand
    /// <see cref="LinearSite.CheckpointTensor"/> to a checkpoint writer here).</param>
    /// <param name="progress">Receives a report after each layer.</param>
    /// <param name="cancellation">Stops between layers and batches.</param>
    public static LlmPruningReport Run(DecoderModel model, Tensor calibration, LlmPruningOptions options, Action<LinearSite>? pruned = null,
        IProgress<LayerProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (calibration.dim() != 2 || calibration.dtype != ScalarType.Int64)
            throw new ArgumentException($"calibration ids must be int64 [windows, tokens], got {calibration.dtype} [{string.Join(", ", calibration.shape)}]");
        if (calibration.shape[1] > model.Config.MaxPositions)
            throw new ArgumentException($"calibration windows of {calibration.shape[1]} tokens exceed the model's {model.Config.MaxPositions} positions");
        if (options.BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "batch size must be positive");
        var clock = Stopwatch.StartNew();
        using var noGrad = no_grad();
        long tokens = calibration.numel();
        double[] sparsities = Enumerable.Repeat(options.Pattern.Sparsity, model.LayerCount).ToArray();
        double[]? ratios = null;
        if (options.Allocation == LayerAllocation.Owl && !options.Pattern.IsNM)
        {
            ratios = OutlierRatios(model, calibration, options, progress, cancellation);
            var densities = OwlAllocation.Densities(ratios, options.Pattern.Sparsity, options.OwlLambda);
            sparsities = densities.Select(d => 1 - d).ToArray();
        }

        var hidden = Embed(model, calibration, options.BatchSize);
        var probe = options.Probe is { } ids ? Keep(model.Embed(ids)) : null;
        model.ReleaseResident(); // the embedding table is not needed again until the probe's head
        var layers = new List<LayerPruningReport>();
        try
        {
            for (int index = 0; index < model.LayerCount; index++)
            {
                cancellation.ThrowIfCancellationRequested();
                var layerClock = Stopwatch.StartNew();
                using var layer = model.LoadLayer(index);
                var pattern = options.Pattern.IsNM ? options.Pattern : SparsityPattern.Unstructured(sparsities[index]);
                using var statistics = Observe(layer, hidden, hessian: true, cancellation);
                var linears = new List<LinearPruningReport>();
                foreach (var site in layer.Linears)
                {
                    linears.Add(PruneLinear(site, statistics.Of(site), pattern, options, cancellation));
                    statistics.Done(site);
                }
                foreach (var site in layer.Linears) pruned?.Invoke(site);
                Advance(layer, hidden);
                if (probe is not null) probe = Replace(probe, layer.Forward(probe));
                layers.Add(new LayerPruningReport(index, pattern.Sparsity, ratios?[index], linears, layerClock.Elapsed.TotalSeconds));
                progress?.Report(new LayerProgress("prune", index, model.LayerCount, tokens / layerClock.Elapsed.TotalSeconds));
            }
            Tensor? probeLogits = probe is null ? null : Keep(model.Head(probe));
            return new LlmPruningReport(layers, tokens, clock.Elapsed.TotalSeconds, probeLogits);
        }
        finally
        {
            foreach (var h in hidden) h.Dispose();
            probe?.Dispose();
        }
    }

    /// <summary>OWL's first pass: D_l of every layer of the dense model, propagating dense outputs.</summary>
    static double[] OutlierRatios(DecoderModel model, Tensor calibration, LlmPruningOptions options, IProgress<LayerProgress>? progress,
        CancellationToken cancellation)
    {
        var hidden = Embed(model, calibration, options.BatchSize);
        model.ReleaseResident();
        try
        {
            var ratios = new double[model.LayerCount];
            for (int index = 0; index < model.LayerCount; index++)
            {
                var layerClock = Stopwatch.StartNew();
                using var layer = model.LoadLayer(index);
                using var statistics = Observe(layer, hidden, hessian: false, cancellation);
                using (var scope = NewDisposeScope())
                    ratios[index] = OwlAllocation.OutlierRatio(
                        layer.Linears.Select(s => (s.Weight, statistics.Of(s).ColumnNormsSquared())).ToList(), options.OwlThreshold);
                Advance(layer, hidden);
                progress?.Report(new LayerProgress("owl", index, model.LayerCount, calibration.numel() / layerClock.Elapsed.TotalSeconds));
            }
            return ratios;
        }
        finally
        {
            foreach (var h in hidden) h.Dispose();
        }
    }

    static LinearPruningReport PruneLinear(LinearSite site, InputStatistics inputs, SparsityPattern pattern, LlmPruningOptions options,
        CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        using var result = LinearPruner.Prune(options.Method, site.Weight, inputs, pattern, options.SparseGpt, options.Refine, cancellation);
        // What is written is what the next layers are calibrated on: rounded to the checkpoint's element type.
        var stored = result.Weight.to_type(options.Storage).to_type(ScalarType.Float32);
        double error = ReconstructionError.Relative(site.Weight, stored, inputs.Gram); // H's factor 2/n cancels
        site.Weight.copy_(stored);
        double sparsity = 1 - (double)site.Weight.count_nonzero().item<long>() / site.Weight.numel();
        return new LinearPruningReport(site.Layer, site.Name, site.OutFeatures, site.InFeatures, sparsity, error, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The calibration hidden states after the embeddings, one tensor per batch of windows.</summary>
    static List<Tensor> Embed(DecoderModel model, Tensor calibration, int batchSize)
    {
        var hidden = new List<Tensor>();
        for (long start = 0; start < calibration.shape[0]; start += batchSize)
            hidden.Add(Keep(model.Embed(calibration.narrow(0, start, Math.Min(batchSize, calibration.shape[0] - start)))));
        return hidden;
    }

    /// <summary>Runs every batch through <paramref name="layer"/>, accumulating the inputs of its linear layers.</summary>
    static LayerStatistics Observe(DecoderLayer layer, List<Tensor> hidden, bool hessian, CancellationToken cancellation)
    {
        var statistics = new LayerStatistics(hessian);
        foreach (var batch in hidden)
        {
            cancellation.ThrowIfCancellationRequested();
            statistics.StartBatch();
            // No dispose scope here: the statistics created during the first batch must outlive it.
            layer.Forward(batch, statistics.Add).Dispose();
        }
        return statistics;
    }

    /// <summary>Replaces every batch of hidden states by the layer's outputs.</summary>
    static void Advance(DecoderLayer layer, List<Tensor> hidden)
    {
        for (int b = 0; b < hidden.Count; b++) hidden[b] = Replace(hidden[b], layer.Forward(hidden[b]));
    }

    static Tensor Replace(Tensor old, Tensor next)
    {
        var kept = Keep(next);
        old.Dispose();
        return kept;
    }

    static Tensor Keep(Tensor tensor)
    {
        tensor.DetachFromDisposeScope();
        return tensor;
    }

    /// <summary>
    /// Input statistics of one decoder layer's linear layers, one object per distinct input: linear layers that read
    /// the same activation (q, k and v; gate and up) are told it with the same tensor and share statistics, which are
    /// fed once per batch.
    /// </summary>
    sealed class LayerStatistics(bool hessian) : IDisposable
    {
        readonly Dictionary<LinearSite, InputStatistics> _bySite = [];
        readonly HashSet<InputStatistics> _fed = [];
        IntPtr _lastInput;
        InputStatistics? _last;

        public InputStatistics Of(LinearSite site) => _bySite[site];

        public void StartBatch()
        {
            _fed.Clear();
            _lastInput = IntPtr.Zero;
            _last = null;
        }

        public void Add(LinearSite site, Tensor input)
        {
            if (!_bySite.TryGetValue(site, out var statistics))
            {
                statistics = input.Handle == _lastInput && _last is not null ? _last : new InputStatistics(site.InFeatures, hessian);
                _bySite[site] = statistics;
            }
            if (_fed.Add(statistics)) statistics.Add(input);
            (_lastInput, _last) = (input.Handle, statistics);
        }

        /// <summary>Forgets <paramref name="site"/>; its statistics are freed once no other site reads them (a Hessian of the MLP's width is 127 MB).</summary>
        public void Done(LinearSite site)
        {
            if (!_bySite.Remove(site, out var statistics)) return;
            if (!_bySite.ContainsValue(statistics)) statistics.Dispose();
        }

        public void Dispose()
        {
            foreach (var statistics in _bySite.Values.Distinct()) statistics.Dispose();
        }
    }
}
