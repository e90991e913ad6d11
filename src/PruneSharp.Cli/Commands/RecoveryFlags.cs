using System.CommandLine;
using System.Globalization;
using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Methods;
using PruneSharp.Pipelines;
using PruneSharp.Recovery;
using PruneSharp.Training;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// How <c>prune</c> recovers after pruning: fine-tuning on the data's labels, knowledge distillation from the dense
/// model on the data's inputs (labels ignored), or nothing. Records what each distillation did, for the report.
/// </summary>
sealed class RecoveryFlags
{
    public Option<string> Recover { get; } = new("--recover")
    {
        Description = "What trains the pruned model for --finetune-epochs: finetune (the data's labels), distill (match the dense model's outputs on the data's inputs, labels ignored; Hinton et al. 2015), or none.",
        DefaultValueFactory = _ => "finetune",
    };
    public Option<string> Loss { get; } = new("--distill-loss") { Description = "--recover distill: auto (KL for logits, cosine + MSE for embeddings), kl, mse, cosine, or cosine-mse.", DefaultValueFactory = _ => "auto" };
    public Option<double> Temperature { get; } = new("--temperature") { Description = "--recover distill: temperature T of the KL loss on logits (scaled by T²).", DefaultValueFactory = _ => 2.0 };
    public Option<string[]> Features { get; } = new("--distill-features") { Description = "--recover distill: also match these intermediate values (names or patterns with * and ?); those whose shapes changed are skipped with the reason.", AllowMultipleArgumentsPerToken = true };

    public IEnumerable<Option> All => new Option[] { Recover, Loss, Temperature, Features };

    readonly List<DistillationResult> _results = new();

    /// <summary>True when --recover distill was given.</summary>
    public bool Distill(ParseResult parse) => Mode(parse) == "distill";

    /// <summary>Checks the flags against the fine-tune epochs and whether the data has labels (before anything loads).</summary>
    public void Check(ParseResult parse, int epochs, string? dataSpec, bool labelled = true)
    {
        string mode = Mode(parse);
        if (mode != "distill" && (parse.GetResult(Loss) is { Implicit: false } || parse.GetResult(Temperature) is { Implicit: false } || parse.GetResult(Features) is { Implicit: false }))
            throw new ArgumentException("--distill-loss, --temperature and --distill-features go with --recover distill");
        if (mode == "none" && epochs > 0) throw new ArgumentException("--recover none trains nothing: drop --finetune-epochs");
        if (mode == "distill" && (epochs == 0 || dataSpec is null)) throw new ArgumentException("--recover distill needs --data (inputs) and --finetune-epochs N");
        if (mode == "finetune" && epochs > 0 && !labelled)
            throw new ArgumentException($"--data '{dataSpec}' has no labels, so fine-tuning cannot use them: give --recover distill (the dense model teaches) or --recover none");
        Options(parse);
    }

    /// <summary>The distillation settings.</summary>
    public DistillationOptions Options(ParseResult parse) => new()
    {
        Loss = TrainingParts.DistillationLoss(parse.GetValue(Loss)!),
        Temperature = parse.GetValue(Temperature),
        Features = parse.GetValue(Features) ?? Array.Empty<string>(),
    };

    /// <summary>
    /// Trains <paramref name="student"/> for the fine-tune's epochs: on <paramref name="train"/>'s labels, or under
    /// --recover distill to match <paramref name="teacher"/> on its inputs; <paramref name="masks"/>, if given, stay in force.
    /// </summary>
    public void Train(ParseResult parse, GraphModule teacher, GraphModule student, IDataset train, TrainerOptions fineTune, MaskSet? masks = null)
    {
        if (fineTune.Epochs == 0) return;
        if (!Distill(parse))
        {
            if (masks is not null) TrainCommand.WithCtrlC(token => PruneFineTune.FineTune(student, masks, fineTune, train, new ProgressBar("fine-tune"), token));
            else
            {
                using var trainer = new Trainer(student, fineTune) { Progress = new ProgressBar("fine-tune") };
                if (TrainCommand.WithCtrlC(token => trainer.Fit(train, token)).Cancelled) throw new OperationCanceledException();
            }
            return;
        }
        masks?.Apply();
        var callbacks = masks is null ? null : new ITrainingCallback[] { new MaskedTraining(masks) };
        var result = TrainCommand.WithCtrlC(token => Distillation.Run(teacher, student, new DatasetInputs(train), Options(parse), fineTune, callbacks, new ProgressBar("distill"), token));
        if (result.Training.Cancelled) throw new OperationCanceledException();
        _results.Add(result);
    }

    /// <summary>Distils <paramref name="teacher"/> into <paramref name="student"/> on unlabeled <paramref name="inputs"/> for the fine-tune's epochs.</summary>
    public void Distill(ParseResult parse, GraphModule teacher, GraphModule student, IInputSource inputs, TrainerOptions fineTune)
    {
        if (fineTune.Epochs == 0) return;
        var result = TrainCommand.WithCtrlC(token => Distillation.Run(teacher, student, inputs, Options(parse), fineTune, null, new ProgressBar("distill"), token));
        if (result.Training.Cancelled) throw new OperationCanceledException();
        _results.Add(result);
    }

    /// <summary>The distillations run, as JSON (null when none ran).</summary>
    public object? Json() => _results.Count == 0 ? null : _results.Select(r => new
    {
        outputs = r.Plan.Outputs.Select(o => new { name = o.Name, kind = o.Kind.ToString().ToLowerInvariant(), loss = Name(o.Loss) }),
        features = r.Plan.Features.Select(f => f.Name),
        skipped_features = r.Plan.Skipped.Select(s => new { name = s.Name, reason = s.Reason }),
        loss_before = r.LossBefore,
        loss_after = r.LossAfter,
    });

    /// <summary>Prints one line per distillation run, and the features it skipped.</summary>
    public void Print(ParseResult parse)
    {
        foreach (var r in _results)
        {
            string outputs = string.Join(", ", r.Plan.Outputs.Select(o => $"{o.Name} ({Name(o.Loss)}{(o.Loss == DistillationLoss.KlDivergence ? $", T={parse.GetValue(Temperature).ToString(CultureInfo.InvariantCulture)}" : "")})"));
            string features = r.Plan.Features.Count == 0 ? "" : $" and {r.Plan.Features.Count} features";
            Console.WriteLine($"distilled from the dense model: {outputs}{features}; teacher-student loss {F(r.LossBefore)} -> {F(r.LossAfter)} (first {Math.Min(Options(parse).EvaluationExamples, r.Training.Epochs.FirstOrDefault()?.Samples ?? 0)} training inputs, labels unused)");
            foreach (var s in r.Plan.Skipped.Take(3)) Console.WriteLine($"feature not distilled: {s.Name}: {s.Reason}");
            if (r.Plan.Skipped.Count > 3) Console.WriteLine($"... and {r.Plan.Skipped.Count - 3} more features not distilled (--json lists them all)");
        }
    }

    static string F(double x) => x.ToString("G4", CultureInfo.InvariantCulture);

    static string Name(DistillationLoss loss) => loss switch
    {
        DistillationLoss.KlDivergence => "kl",
        DistillationLoss.CosineMse => "cosine-mse",
        _ => loss.ToString().ToLowerInvariant(),
    };

    /// <summary>The recovery kind: finetune, distill or none.</summary>
    public string Kind(ParseResult parse) => Mode(parse);

    /// <summary>Records a distillation the library ran, for <see cref="Print"/> and <see cref="Json"/>.</summary>
    public void Add(DistillationResult result) => _results.Add(result);

    string Mode(ParseResult parse) => parse.GetValue(Recover)!.ToLowerInvariant() switch
    {
        "finetune" or "fine-tune" => "finetune",
        "distill" => "distill",
        "none" => "none",
        var other => throw new ArgumentException($"--recover '{other}' is not one of finetune, distill, none"),
    };
}
