using PruneSharp.Data;
using PruneSharp.Graph;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// The flags of <c>prune</c> that set each field of the pipeline it describes: the library names recipe fields in
/// its errors, and the verb shows the flag the user typed instead.
/// </summary>
static class FlagNames
{
    static readonly (string Field, string Flag)[] Fields =
    {
        ("stages[0].method", "--method"), ("stages[0].sparsity", "--sparsity"), ("stages[0].granularity", "--granularity"), ("stages[0].scope", "--scope"),
        ("stages[0].schedule", "--schedule"), ("stages[0].exclude", "--exclude"), ("stages[0].first_last", "--first-last"), ("stages[0].strict", "--strict"),
        ("stages[0].structure", "--structured"), ("stages[0].ratio", "--ratio"), ("stages[0].round_to", "--round-to"), ("stages[0].max_ratio", "--max-ratio"),
        ("stages[0].global", "--global"), ("stages[0].ignore", "--ignore"), ("stages[0].approximate", "--approximate"), ("stages[0].ffn_ratio", "--ffn-ratio"),
        ("stages[0].hidden_ratio", "--hidden-ratio"), ("stages[0].steps", "--steps"), ("stages[0].calibration", "--calibration"), ("stages[0].aggregate", "--aggregate"),
        ("stages[0].include_readers", "--include-readers"), ("stages[0].blocks", "--blocks"),
        ("data.source", "--data"), ("data.normalize", "--normalize"), ("inputs.normalize", "--normalize"), ("data.resize", "--resize"), ("data.crop", "--crop"), ("data.augment", "--augment"),
        ("data.tokenizer", "--tokenizer"), ("data.context", "--context"), ("data.held_out", "--held-out"),
        ("recovery.kind", "--recover"), ("recovery.epochs", "--finetune-epochs"), ("recovery.batch_size", "--batch-size"), ("recovery.optimizer", "--optimizer"),
        ("recovery.lr_schedule", "--lr-schedule"), ("recovery.lr", "--lr"), ("recovery.distill_loss", "--distill-loss"), ("recovery.temperature", "--temperature"),
        ("recovery.distill_features", "--distill-features"), ("recovery.threads", "--threads"),
        ("export.embed_preprocessing", "--embed-preprocessing"), ("export.keep_opset", "--keep-opset"), ("export.path", "--output"),
        ("evaluate.latency", "--latency"), ("evaluate.threads", "--latency-threads"), ("evaluate.rounds", "--latency-rounds"),
        ("inputs.shape", "--shape"), ("inputs.tensors", "--input"), ("model", "--model"),
    };

    /// <summary>Runs <paramref name="work"/>, rewriting the fields its argument and graph errors name into flags (<paramref name="fields"/>; null: <c>prune</c>'s).</summary>
    public static T Translate<T>(Func<T> work, IReadOnlyList<(string Field, string Flag)>? fields = null)
    {
        fields ??= Fields;
        try
        {
            return work();
        }
        catch (ArgumentException e) when (Rewrite(e.Message, fields) != e.Message)
        {
            throw new ArgumentException(Rewrite(e.Message, fields), e);
        }
        catch (GraphException e) when (Rewrite(e.Message, fields) != e.Message)
        {
            throw new GraphException(Rewrite(e.Message, fields), e);
        }
    }

    /// <summary><paramref name="p"/> with the field it came from named as its flag (<paramref name="fields"/>; null: <c>prune</c>'s).</summary>
    public static Preprocessing Rewrite(Preprocessing p, IReadOnlyList<(string Field, string Flag)>? fields = null) => p with { Source = Rewrite(p.Source, fields ?? Fields) };

    /// <summary><paramref name="message"/> with <c>prune</c>'s fields named as their flags.</summary>
    public static string Rewrite(string message) => Rewrite(message, Fields);

    /// <summary>
    /// <paramref name="message"/> with each field of <paramref name="fields"/> named as its flag: a dotted field
    /// wherever it appears, a plain word only where the message opens with it (<c>model 'x' ...</c>, <c>rate must ...</c>).
    /// </summary>
    static string Rewrite(string message, IReadOnlyList<(string Field, string Flag)> fields)
    {
        foreach (var (field, flag) in fields)
        {
            if (field.Contains('.') || field.Contains('[')) message = message.Replace(field, flag, StringComparison.Ordinal);
            else if (new[] { " '", ":", " must " }.Any(next => message.StartsWith(field + next, StringComparison.Ordinal))) message = flag + message[field.Length..];
        }
        return message;
    }
}
