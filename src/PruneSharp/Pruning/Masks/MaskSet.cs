using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.Masks;

/// <summary>
/// 0/1 masks bound by name to parameters of one TorchSharp module (the names of <c>named_parameters()</c>, e.g.
/// <c>features.0.weight</c>). Pruning only ever clears mask entries: <see cref="Prune"/> ANDs a new keep-mask into
/// the existing one, so a later round can only remove survivors. The weights themselves hold zeros where the mask is
/// 0: <see cref="Apply"/> writes them, <see cref="MaskGradients"/> (after backward) and <see cref="Apply"/> (after
/// the optimizer step) keep them at zero through training, whatever momentum, Adam moments or weight decay do.
/// Keep a <see cref="WeightSnapshot"/> of the weights if the originals are needed later (Lottery Ticket rewinding).
/// </summary>
public sealed class MaskSet : IDisposable
{
    readonly nn.Module _module;
    readonly Dictionary<string, TorchSharp.Modules.Parameter> _parameters;
    readonly SortedDictionary<string, Tensor> _masks = new(StringComparer.Ordinal);
    Action? _removeForwardHook;

    /// <summary>
    /// Creates an empty mask set for <paramref name="module"/>; no parameter is masked yet. Create it after moving
    /// the module to its device: it holds the module's parameter objects.
    /// </summary>
    public MaskSet(nn.Module module)
    {
        _module = module;
        _parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
    }

    /// <summary>The module the masks are bound to.</summary>
    public nn.Module Module => _module;

    /// <summary>Names of the masked parameters, in ordinal order.</summary>
    public IReadOnlyCollection<string> Names => _masks.Keys;

    /// <summary>Names of all parameters of the module, in the module's order.</summary>
    public IReadOnlyCollection<string> ParameterNames => _parameters.Keys;

    /// <summary>True if <paramref name="name"/> has a mask.</summary>
    public bool Contains(string name) => _masks.ContainsKey(name);

    /// <summary>The parameter called <paramref name="name"/>.</summary>
    /// <exception cref="PruningException">The module has no parameter of that name.</exception>
    public TorchSharp.Modules.Parameter Parameter(string name) =>
        _parameters.TryGetValue(name, out var p) ? p
            : throw new PruningException($"the model has no parameter '{name}' (it has {Describe(_parameters.Keys)})");

    /// <summary>The mask of <paramref name="name"/> (bool, the parameter's shape): an all-true mask if none is bound yet.</summary>
    /// <exception cref="PruningException">The module has no parameter of that name.</exception>
    public Tensor Mask(string name) =>
        _masks.TryGetValue(name, out var mask) ? mask : ones_like(Parameter(name), dtype: ScalarType.Bool);

    /// <summary>
    /// Clears the mask of <paramref name="name"/> wherever <paramref name="keep"/> is false (new mask = old mask AND
    /// keep) and zeroes those weights. Binds a mask first if the parameter has none.
    /// </summary>
    /// <exception cref="PruningException">Unknown parameter, or <paramref name="keep"/> has another shape.</exception>
    public void Prune(string name, Tensor keep)
    {
        var parameter = Parameter(name);
        CheckShape(name, parameter, keep);
        var updated = keep.to(ScalarType.Bool, parameter.device);
        if (_masks.TryGetValue(name, out var old))
        {
            updated = old.logical_and(updated);
            old.Dispose();
        }
        _masks[name] = updated.detach().DetachFromDisposeScope();
        using (no_grad()) parameter.mul_(_masks[name]);
    }

    /// <summary>Zeroes every masked weight (call after each optimizer step, or after loading or rewinding weights).</summary>
    public void Apply()
    {
        using var _ = no_grad();
        foreach (var (name, mask) in _masks) _parameters[name].mul_(mask);
    }

    /// <summary>
    /// Applies the masks before every forward pass of the module (a forward pre-hook, so it fires through
    /// <c>call</c>), for code that changes weights behind the masks' back (an optimizer step without
    /// <see cref="Apply"/>, a loaded state dict). Costs one multiply per masked weight per forward pass.
    /// Undone by <see cref="MakePermanent"/> and <see cref="Dispose"/>.
    /// </summary>
    /// <exception cref="PruningException">The module is not a single-input module that supports hooks.</exception>
    public void ApplyBeforeEveryForward()
    {
        if (_removeForwardHook != null) return;
        if (_module is not nn.Module<Tensor, Tensor> hookable)
            throw new PruningException($"cannot hook the forward pass of {_module.GetType().Name}: it is not a Module<Tensor, Tensor>; call Apply() after each weight change instead");
        var handle = hookable.register_forward_pre_hook((_, input) => { Apply(); return input; });
        _removeForwardHook = handle.remove;
    }

    /// <summary>Zeroes the gradients of masked weights (call after backward, before the optimizer step).</summary>
    public void MaskGradients()
    {
        using var _ = no_grad();
        foreach (var (name, mask) in _masks)
            if (_parameters[name].grad is { } grad) grad.mul_(mask);
    }

    /// <summary>
    /// Makes the pruning permanent: zeroes the masked weights one last time and forgets the masks. The weights stay
    /// zero until something (training without masks) changes them.
    /// </summary>
    public void MakePermanent()
    {
        Apply();
        DetachForwardHook();
        foreach (var mask in _masks.Values) mask.Dispose();
        _masks.Clear();
    }

    /// <summary>Number of kept (true) entries of <paramref name="name"/>'s mask; the parameter's size if unmasked.</summary>
    public long Kept(string name) => _masks.TryGetValue(name, out var m) ? m.count_nonzero().item<long>() : Parameter(name).numel();

    /// <summary>
    /// The masks as a state dictionary (name → bool tensor, on the CPU), e.g. for a trainer checkpoint's extra state.
    /// The tensors are copies.
    /// </summary>
    public Dictionary<string, Tensor> StateDict() =>
        _masks.ToDictionary(kv => kv.Key, kv => kv.Value.cpu().clone().DetachFromDisposeScope());

    /// <summary>
    /// Replaces all masks by <paramref name="masks"/> (from <see cref="StateDict"/> or <see cref="MaskFile"/>) and
    /// applies them. Every name must be a parameter of the module with the same shape; entries must be 0 or 1.
    /// </summary>
    /// <exception cref="PruningException">A name, shape or value does not fit the module.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> masks)
    {
        var loaded = new Dictionary<string, Tensor>();
        foreach (var (name, mask) in masks)
        {
            var parameter = Parameter(name);
            CheckShape(name, parameter, mask);
            if (mask.dtype != ScalarType.Bool && (mask.ne(0).logical_and(mask.ne(1))).any().item<bool>())
                throw new PruningException($"mask of '{name}' holds values other than 0 and 1");
            loaded[name] = mask.to(ScalarType.Bool, parameter.device).clone().DetachFromDisposeScope();
        }
        foreach (var mask in _masks.Values) mask.Dispose();
        _masks.Clear();
        foreach (var (name, mask) in loaded) _masks[name] = mask;
        Apply();
    }

    /// <summary>
    /// Writes the masks into a checkpoint's extra state under <paramref name="prefix"/>, replacing any entries that
    /// prefix held before (a training callback's <c>SaveState</c>).
    /// </summary>
    public void SaveState(IDictionary<string, Tensor> extra, string prefix)
    {
        foreach (string key in extra.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList()) extra.Remove(key);
        foreach (var (name, mask) in StateDict()) extra[prefix + name] = mask;
    }

    /// <summary>Loads the masks that <see cref="SaveState"/> wrote under <paramref name="prefix"/>, if there are any.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> extra, string prefix)
    {
        var masks = extra.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        if (masks.Count > 0) LoadStateDict(masks);
    }

    /// <summary>Disposes the masks (not the module) and removes the forward hook if any.</summary>
    public void Dispose()
    {
        DetachForwardHook();
        foreach (var mask in _masks.Values) mask.Dispose();
        _masks.Clear();
    }

    void DetachForwardHook()
    {
        _removeForwardHook?.Invoke();
        _removeForwardHook = null;
    }

    static void CheckShape(string name, Tensor parameter, Tensor mask)
    {
        if (!mask.shape.SequenceEqual(parameter.shape))
            throw new PruningException($"mask for '{name}' has shape [{string.Join(",", mask.shape)}], the parameter has [{string.Join(",", parameter.shape)}]");
    }

    internal static string Describe(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? "no parameters" : string.Join(", ", list.Take(8)) + (list.Count > 8 ? $", ... ({list.Count} in all)" : "");
    }
}
