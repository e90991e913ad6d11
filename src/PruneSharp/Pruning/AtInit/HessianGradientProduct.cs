using PruneSharp.Data;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Pruning.AtInit;

/// <summary>
/// The Hessian-gradient product Hg of the loss that GraSP scores with, by double backward and without forming H:
/// first ḡ = (1/B) Σ_b ∇L_b (plain backward), then per batch g_b = ∇L_b with its graph kept (create_graph, and
/// retain_graph with it), z_b = g_bᵀ ḡ (ḡ held constant) and H_b ḡ = ∇z_b; the result is (1/B) Σ_b H_b ḡ = H ḡ for
/// the mean loss. Evaluation mode; the gradients of the model are left cleared.
/// </summary>
public static class HessianGradientProduct
{
    /// <summary>Hḡ and ḡ for <paramref name="parameters"/> (the Hessian of the loss restricted to them), float32.</summary>
    /// <exception cref="PruningException">No batch, or a named parameter is missing.</exception>
    public static (Dictionary<string, Tensor> Product, Dictionary<string, Tensor> Gradient) Compute(nn.Module<Tensor, Tensor> model,
        IReadOnlyList<Batch> batches, IReadOnlyList<string> parameters, LossFunction? loss = null)
    {
        if (batches.Count == 0) throw new PruningException("GraSP needs at least one batch of data");
        if (parameters.Count == 0) throw new PruningException("GraSP needs at least one parameter to score");
        loss ??= Losses.CrossEntropy;
        var byName = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var weights = parameters.Select(n => byName.TryGetValue(n, out var p) ? (Tensor)p : throw new PruningException($"the model has no parameter '{n}'")).ToList();
        var mean = weights.Select(w => zeros_like(w)).ToArray();
        var product = weights.Select(w => zeros_like(w)).ToArray();
        bool training = model.training;
        model.eval();
        try
        {
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                var grads = autograd.grad(new[] { loss(model.call(batch.Inputs), batch.Targets) }, weights, allow_unused: true);
                for (int i = 0; i < weights.Count; i++)
                    if (grads[i] is { } g && !g.IsInvalid) mean[i].add_(g.detach() / batches.Count);
            }
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                var grads = autograd.grad(new[] { loss(model.call(batch.Inputs), batch.Targets) }, weights,
                    retain_graph: true, create_graph: true, allow_unused: true);
                Tensor? z = null;
                for (int i = 0; i < weights.Count; i++)
                    if (grads[i] is { } g && !g.IsInvalid)
                    {
                        var term = (g * mean[i]).sum();
                        z = z is null ? term : z + term;
                    }
                if (z is null || !z.requires_grad) continue; // a network linear in its weights has no curvature to follow
                var hg = autograd.grad(new[] { z }, weights, allow_unused: true);
                for (int i = 0; i < weights.Count; i++)
                    if (hg[i] is { } h && !h.IsInvalid) product[i].add_(h.detach() / batches.Count);
            }
        }
        finally
        {
            model.zero_grad();
            model.train(training);
        }
        return (parameters.Select((n, i) => (n, product[i])).ToDictionary(p => p.n, p => p.Item2),
            parameters.Select((n, i) => (n, mean[i])).ToDictionary(p => p.n, p => p.Item2));
    }
}
