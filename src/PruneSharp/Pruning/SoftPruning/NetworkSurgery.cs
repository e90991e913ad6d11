using PruneSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.SoftPruning;

/// <summary>
/// Dynamic network surgery (Guo et al. 2016): every layer keeps its dense weights W and a 0/1 mask T; the forward pass
/// uses W⊙T, and the gradient ∂L/∂(W⊙T) updates all of W (straight-through), so pruned weights keep changing. After
/// an optimizer step the mask may be revised per layer with two thresholds a &lt; b on |W|: T = 0 where |W| &lt; a
/// (pruning), T = 1 where |W| ≥ b (splicing a connection back), unchanged in between. As in the paper the thresholds
/// follow the mean μ and standard deviation σ of the layer's |W|: a = (1 − m)·max(μ + cσ, 0) and
/// b = (1 + m)·max(μ + cσ, 0), recomputed from the current weights, with the margin m = 0.1. The factor c of each layer
/// is set once from the target sparsity s: μ + cσ is the s-quantile of the initial |W|, and the mask starts as
/// |W| ≥ that value. Whether the masks are revised after step t is drawn with the paper's decreasing probability
/// σ(t) = (1 + γ·t)^(−power) (<see cref="SurgerySchedule"/>). At the end of the last epoch W⊙T is written into the
/// weights (the surgery made permanent).
/// </summary>
public sealed class NetworkSurgery : ITrainingCallback, IDisposable
{
    const string Prefix = "network-surgery/";
    readonly List<(string Name, Parameter Parameter)> _layers;
    readonly Dictionary<string, Tensor> _masks = new(StringComparer.Ordinal);
    readonly Dictionary<string, Tensor> _dense = new(StringComparer.Ordinal);
    readonly Dictionary<string, double> _factors = new(StringComparer.Ordinal);

    /// <summary>
    /// Sets up surgery on <paramref name="layers"/> of <paramref name="module"/> aiming at <paramref name="sparsity"/>,
    /// revising the masks when <paramref name="schedule"/> fires (default: the paper's γ = 1e-4, power 1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The sparsity is not in (0, 1), the margin not in [0, 1), or a schedule setting is out of range.</exception>
    /// <exception cref="PruningException">No layer is given, or a name is not a parameter of the module.</exception>
    public NetworkSurgery(nn.Module module, IReadOnlyList<string> layers, double sparsity, double margin = 0.1, SurgerySchedule? schedule = null)
    {
        schedule ??= new SurgerySchedule();
        schedule.Validate();
        if (!(sparsity > 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "network surgery needs a target sparsity in (0, 1)");
        if (!(margin >= 0 && margin < 1)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "the threshold margin must be in [0, 1)");
        if (layers.Count == 0) throw new PruningException("network surgery needs at least one layer");
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        _layers = layers.Select(n => (n, parameters.TryGetValue(n, out var p) ? p : throw new PruningException($"the model has no parameter '{n}'"))).ToList();
        Sparsity = sparsity;
        Margin = margin;
        Schedule = schedule;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, parameter) in _layers)
        {
            var magnitude = parameter.detach().abs().flatten().to(float64);
            var (mean, std) = MeanStd(magnitude);
            long index = Math.Min(magnitude.numel() - 1, (long)Math.Floor(sparsity * magnitude.numel()));
            double cut = magnitude.sort().Values[index].item<double>();
            _factors[name] = std > 0 ? (cut - mean) / std : 0;
            _masks[name] = parameter.detach().abs().ge(cut).DetachFromDisposeScope();
            _dense[name] = parameter.detach().clone().DetachFromDisposeScope();
        }
    }

    /// <summary>The target sparsity that set each layer's factor c.</summary>
    public double Sparsity { get; }

    /// <summary>m: a and b lie this fraction below and above μ + cσ.</summary>
    public double Margin { get; }

    /// <summary>When the masks are revised.</summary>
    public SurgerySchedule Schedule { get; }

    /// <summary>Mask revisions done so far in this process (by <see cref="Revise"/>).</summary>
    public int Revisions { get; private set; }

    /// <summary>The layers under surgery.</summary>
    public IReadOnlyList<string> Layers => _layers.Select(l => l.Name).ToList();

    /// <summary>The factor c of each layer.</summary>
    public IReadOnlyDictionary<string, double> Factors => _factors;

    /// <summary>The current mask T of <paramref name="name"/> (bool; owned by this object).</summary>
    public Tensor Mask(string name) => _masks[name];

    /// <summary>The thresholds (a, b) of <paramref name="name"/> at its current weights.</summary>
    public (double Lower, double Upper) Thresholds(string name)
    {
        using var scope = NewDisposeScope();
        var parameter = _layers.First(l => l.Name == name).Parameter;
        var (mean, std) = MeanStd(parameter.detach().abs().flatten().to(float64));
        double centre = Math.Max(mean + _factors[name] * std, 0);
        return ((1 - Margin) * centre, (1 + Margin) * centre);
    }

    /// <summary>The fraction of the layers' weights that the masks prune now.</summary>
    public double MaskedFraction =>
        1 - _masks.Values.Sum(m => m.count_nonzero().item<long>()) / (double)_masks.Values.Sum(m => m.numel());

    /// <inheritdoc/>
    public void OnBatchStart(TrainingContext context)
    {
        using var _ = no_grad();
        foreach (var (name, parameter) in _layers)
        {
            _dense[name].copy_(parameter);
            parameter.mul_(_masks[name]);
        }
    }

    /// <inheritdoc/>
    public void OnBeforeOptimizerStep(TrainingContext context)
    {
        using var _ = no_grad();
        foreach (var (name, parameter) in _layers) parameter.copy_(_dense[name]);
    }

    /// <inheritdoc/>
    public void OnAfterOptimizerStep(TrainingContext context)
    {
        if (Schedule.Fires(context.Position.Step)) Revise();
    }

    /// <inheritdoc/>
    public void OnEpochEnd(TrainingContext context, EpochSummary summary)
    {
        if (context.Position.Epoch >= context.Trainer.Options.Epochs) MakePermanent();
    }

    /// <summary>Revises every mask: T = 0 where |W| &lt; a, T = 1 where |W| ≥ b, unchanged in between.</summary>
    public void Revise()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, parameter) in _layers)
        {
            var (lower, upper) = Thresholds(name);
            var magnitude = parameter.detach().abs();
            var mask = _masks[name];
            mask.logical_and_(magnitude.ge(lower)).logical_or_(magnitude.ge(upper));
        }
        Revisions++;
    }

    /// <summary>Writes W⊙T into the weights: the pruned connections become zeros of the trained model.</summary>
    public void MakePermanent()
    {
        using var _ = no_grad();
        foreach (var (name, parameter) in _layers) parameter.mul_(_masks[name]);
    }

    /// <inheritdoc/>
    public void SaveState(IDictionary<string, Tensor> extra)
    {
        foreach (string key in extra.Keys.Where(k => k.StartsWith(Prefix, StringComparison.Ordinal)).ToList()) extra.Remove(key);
        foreach (var (name, mask) in _masks) extra[Prefix + name] = mask.cpu().clone().DetachFromDisposeScope();
    }

    /// <inheritdoc/>
    public void LoadState(IReadOnlyDictionary<string, Tensor> extra)
    {
        foreach (var (name, parameter) in _layers)
        {
            if (!extra.TryGetValue(Prefix + name, out var saved)) continue;
            if (!saved.shape.SequenceEqual(parameter.shape))
                throw new PruningException($"the checkpoint's surgery mask of '{name}' has shape [{string.Join(",", saved.shape)}], the weight [{string.Join(",", parameter.shape)}]");
            _masks[name].Dispose();
            _masks[name] = saved.to(ScalarType.Bool, parameter.device).clone().DetachFromDisposeScope();
        }
    }

    /// <summary>Disposes the masks and dense copies (not the module).</summary>
    public void Dispose()
    {
        foreach (var t in _masks.Values.Concat(_dense.Values)) t.Dispose();
        _masks.Clear();
        _dense.Clear();
    }

    static (double Mean, double Std) MeanStd(Tensor values) =>
        (values.mean().item<double>(), values.numel() > 1 ? values.std().item<double>() : 0);
}
