using PruneSharp.Llm;
using PruneSharp.Llm.Checkpoints;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// Logits of a checkpoint as PruneSharp computes them, for <c>bench/llm/check_in_transformers.py</c> to compare with
/// what transformers computes from the same files: the first windows of a text, tokenised with the checkpoint's own
/// tokenizer, and their logits, written as <c>ids</c> (I64 [B, T]) and <c>logits</c> (F32 [B, T, V]).
/// </summary>
sealed class LlmLogits : IBenchmark
{
    public string Name => "llm-logits";
    public string Description => "logits of a checkpoint for the first windows of a text (CHECKPOINT TEXT OUT.safetensors [WINDOWS] [TOKENS])";

    public int Run(string[] args)
    {
        if (args.Length < 3) { Console.Error.WriteLine($"usage: {Name} CHECKPOINT TEXT OUT.safetensors [WINDOWS=2] [TOKENS=64]"); return 2; }
        int windows = args.Length > 3 ? int.Parse(args[3]) : 2, tokens = args.Length > 4 ? int.Parse(args[4]) : 64;
        using var source = LanguageModelCheckpoint.Open(args[0]);
        using var all = TokenWindows.Evaluation(source.Tokenize(args[1]), source.ClipLength(tokens));
        using var ids = all.narrow(0, 0, Math.Min(windows, all.shape[0]));
        using var logits = source.Model.Logits(ids);
        SafetensorsWriter.Write(args[2], [("ids", ids, SafetensorsDType.I64), ("logits", logits, SafetensorsDType.F32)]);
        Console.WriteLine($"{args[2]}: ids [{string.Join(", ", ids.shape)}], logits [{string.Join(", ", logits.shape)}]");
        return 0;
    }
}
