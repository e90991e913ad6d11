using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Training;

/// <summary>Which update rule the trainer uses.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent, optionally with (Nesterov) momentum; weight decay is an L2 term added to the gradient.</summary>
    Sgd,

    /// <summary>Adam (Kingma &amp; Ba, 2015); weight decay is an L2 term added to the gradient.</summary>
    Adam,

    /// <summary>AdamW (Loshchilov &amp; Hutter, 2019): Adam with weight decay decoupled from the gradient.</summary>
    AdamW,
}

/// <summary>
/// The optimizer, without its learning rate (the <see cref="LearningRateSchedule"/> sets that at every step).
/// Built on TorchSharp's managed optimizers, whose state (momentum buffers, Adam moments and step counts) is saved in checkpoints.
/// </summary>
/// <param name="Kind">Update rule.</param>
/// <param name="Momentum">SGD momentum factor (0: none).</param>
/// <param name="Nesterov">SGD: use Nesterov momentum (needs a positive momentum).</param>
/// <param name="WeightDecay">Weight decay (L2 for SGD and Adam, decoupled for AdamW).</param>
/// <param name="Beta1">Adam/AdamW first-moment decay.</param>
/// <param name="Beta2">Adam/AdamW second-moment decay.</param>
/// <param name="Epsilon">Adam/AdamW denominator term.</param>
public sealed record OptimizerSettings(
    OptimizerKind Kind = OptimizerKind.Sgd,
    double Momentum = 0,
    bool Nesterov = false,
    double WeightDecay = 0,
    double Beta1 = 0.9,
    double Beta2 = 0.999,
    double Epsilon = 1e-8)
{
    /// <summary>Creates the optimizer over <paramref name="parameters"/> with the initial rate <paramref name="learningRate"/>.</summary>
    /// <exception cref="ArgumentException">An inconsistent setting (negative decay, Nesterov without momentum, betas outside [0, 1)).</exception>
    public OptimizerHelper Create(IEnumerable<Parameter> parameters, double learningRate)
    {
        if (WeightDecay < 0) throw new ArgumentException($"weight decay must be non-negative, got {WeightDecay}");
        switch (Kind)
        {
            case OptimizerKind.Sgd:
                if (Momentum < 0) throw new ArgumentException($"momentum must be non-negative, got {Momentum}");
                if (Nesterov && Momentum <= 0) throw new ArgumentException("Nesterov momentum needs a positive momentum");
                return optim.SGD(parameters, learningRate, Momentum, 0, WeightDecay, Nesterov);
            case OptimizerKind.Adam:
            case OptimizerKind.AdamW:
                if (!(Beta1 is >= 0 and < 1) || !(Beta2 is >= 0 and < 1))
                    throw new ArgumentException($"Adam betas must be in [0, 1), got ({Beta1}, {Beta2})");
                return Kind == OptimizerKind.Adam
                    ? optim.Adam(parameters, learningRate, Beta1, Beta2, Epsilon, WeightDecay)
                    : optim.AdamW(parameters, learningRate, Beta1, Beta2, Epsilon, WeightDecay);
            default:
                throw new ArgumentException($"unknown optimizer kind {Kind}");
        }
    }
}
