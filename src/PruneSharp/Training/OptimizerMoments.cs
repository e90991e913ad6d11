using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Training;

/// <summary>
/// Per-weight optimizer state (SGD's momentum buffer, Adam's first and second moments and AMSGrad's maximum) read
/// through TorchSharp's managed optimizers: every tensor field of a parameter's state that has the parameter's shape.
/// </summary>
public static class OptimizerMoments
{
    /// <summary>The state tensors that <paramref name="optimizer"/> keeps for <paramref name="parameter"/> (none before its first step for SGD momentum).</summary>
    public static IReadOnlyList<Tensor> Of(OptimizerHelper optimizer, Parameter parameter)
    {
        var states = optimizer.state_dict().State;
        int index = 0;
        foreach (var group in optimizer.ParamGroups.OfType<ParamGroup>())
            foreach (var p in group.Parameters)
            {
                if (index >= states.Count) return Array.Empty<Tensor>();
                var state = states[index++];
                if (p.Handle != parameter.Handle) continue;
                return state.GetType().GetFields()
                    .Where(f => f.FieldType == typeof(Tensor))
                    .Select(f => f.GetValue(state) as Tensor)
                    .Where(t => t is not null && t.Handle != IntPtr.Zero && t.shape.SequenceEqual(parameter.shape))
                    .Select(t => t!).ToList();
            }
        return Array.Empty<Tensor>();
    }

    /// <summary>Zeroes the optimizer's state of <paramref name="parameter"/> wherever <paramref name="where"/> is true (a fresh start for those weights).</summary>
    public static void Reset(OptimizerHelper optimizer, Parameter parameter, Tensor where)
    {
        using var _ = no_grad();
        foreach (var moment in Of(optimizer, parameter)) moment.masked_fill_(where.to(moment.device), 0);
    }
}
