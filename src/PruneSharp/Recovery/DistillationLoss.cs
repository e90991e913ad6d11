using static TorchSharp.torch;

namespace PruneSharp.Recovery;

/// <summary>How a student's output is matched to the teacher's.</summary>
public enum DistillationLoss
{
    /// <summary>Per output: <see cref="KlDivergence"/> for logits, <see cref="CosineMse"/> for embeddings and features (<see cref="OutputKinds.Of"/>).</summary>
    Auto,

    /// <summary>KL divergence of the temperature-softened distributions, scaled by T² (<see cref="DistillationLosses.KlDivergence"/>).</summary>
    KlDivergence,

    /// <summary>Mean squared error (<see cref="DistillationLosses.MeanSquaredError"/>).</summary>
    Mse,

    /// <summary>One minus the cosine similarity (<see cref="DistillationLosses.CosineDistance"/>).</summary>
    Cosine,

    /// <summary>The sum of <see cref="Cosine"/> and <see cref="Mse"/>: direction and scale.</summary>
    CosineMse,
}

/// <summary>The losses of knowledge distillation, each the mean over a batch of the student's distance to the teacher.</summary>
public static class DistillationLosses
{
    /// <summary>
    /// Hinton et al. (2015): <c>T² · mean over vectors of KL(softmax(t/T) ‖ softmax(s/T))</c> over the last dimension of
    /// logits <c>[N, C]</c> or <c>[N, T, C]</c>. Dividing by the temperature softens both distributions so that the
    /// teacher's small probabilities carry information; the factor T² keeps the gradients' scale independent of T.
    /// </summary>
    /// <param name="student">The student's logits.</param>
    /// <param name="teacher">The teacher's logits (no gradient flows into them).</param>
    /// <param name="temperature">T &gt; 0.</param>
    public static Tensor KlDivergence(Tensor student, Tensor teacher, double temperature)
    {
        if (!(temperature > 0) || !double.IsFinite(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be positive");
        CheckShapes(student, teacher);
        using var scope = NewDisposeScope();
        long classes = student.shape[^1];
        var logStudent = nn.functional.log_softmax(student.reshape(-1, classes) / temperature, 1);
        var logTeacher = nn.functional.log_softmax(teacher.detach().reshape(-1, classes) / temperature, 1);
        var perVector = (logTeacher.exp() * (logTeacher - logStudent)).sum(dim: 1);
        return (perVector.mean() * (temperature * temperature)).MoveToOuterDisposeScope();
    }

    /// <summary>Mean over every element of <c>(s - t)²</c>.</summary>
    public static Tensor MeanSquaredError(Tensor student, Tensor teacher)
    {
        CheckShapes(student, teacher);
        return nn.functional.mse_loss(student, teacher.detach());
    }

    /// <summary>
    /// Mean over vectors of <c>1 - cos(s, t)</c>, the vectors as <see cref="OutputKinds.Vectors"/> cuts them (rows,
    /// positions, or whole feature maps). Zero when every student vector points as the teacher's does, whatever its length.
    /// </summary>
    public static Tensor CosineDistance(Tensor student, Tensor teacher)
    {
        CheckShapes(student, teacher);
        using var scope = NewDisposeScope();
        var similarity = nn.functional.cosine_similarity(OutputKinds.Vectors(student), OutputKinds.Vectors(teacher.detach()), dim: 1, eps: 1e-8);
        return (1 - similarity).mean().MoveToOuterDisposeScope();
    }

    /// <summary>The loss <paramref name="kind"/> (not <see cref="DistillationLoss.Auto"/>) of one output.</summary>
    public static Tensor Of(DistillationLoss kind, Tensor student, Tensor teacher, double temperature) => kind switch
    {
        DistillationLoss.KlDivergence => KlDivergence(student, teacher, temperature),
        DistillationLoss.Mse => MeanSquaredError(student, teacher),
        DistillationLoss.Cosine => CosineDistance(student, teacher),
        DistillationLoss.CosineMse => CosineDistance(student, teacher) + MeanSquaredError(student, teacher),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "choose the loss of each output first"),
    };

    /// <summary>The loss a value gets: <paramref name="chosen"/>, or under <see cref="DistillationLoss.Auto"/> the one its kind calls for.</summary>
    public static DistillationLoss Resolve(DistillationLoss chosen, OutputKind kind) =>
        chosen != DistillationLoss.Auto ? chosen : kind == OutputKind.Logits ? DistillationLoss.KlDivergence : DistillationLoss.CosineMse;

    static void CheckShapes(Tensor student, Tensor teacher)
    {
        if (!student.shape.SequenceEqual(teacher.shape))
            throw new ArgumentException($"the student's output [{string.Join(",", student.shape)}] and the teacher's [{string.Join(",", teacher.shape)}] differ in shape");
        if (student.dim() == 0) throw new ArgumentException("distillation needs outputs with a batch dimension, got a scalar");
    }
}
