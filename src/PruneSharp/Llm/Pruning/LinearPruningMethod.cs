namespace PruneSharp.Llm.Pruning;

/// <summary>The retraining-free methods that prune one linear layer from its calibration statistics (<c>--method</c>).</summary>
public enum LinearPruningMethod
{
    /// <summary>|W|, compared over the whole matrix (<see cref="MagnitudePruning"/>).</summary>
    Magnitude,

    /// <summary>|W|·‖X_j‖₂, compared per output row (<see cref="WandaPruning"/>).</summary>
    Wanda,

    /// <summary>OBS updates with H = 2XᵀX/n (<see cref="SparseGpt"/>).</summary>
    SparseGpt,
}
