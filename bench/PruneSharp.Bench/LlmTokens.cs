using PruneSharp.Llm;
using PruneSharp.Llm.Checkpoints;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// The token ids of a whole text as a checkpoint's own tokenizer gives them (no special tokens added, as
/// <c>llm eval</c> reads it), written as <c>ids</c> (I64 [N]): the input of <c>bench/llm/pruning_reference.py</c> on a
/// machine without the Python <c>tokenizers</c> package.
/// </summary>
sealed class LlmTokens : IBenchmark
{
    public string Name => "llm-tokens";
    public string Description => "token ids of a text with a checkpoint's tokenizer (CHECKPOINT TEXT OUT.safetensors)";

    public int Run(string[] args)
    {
        if (args.Length != 3) { Console.Error.WriteLine($"usage: {Name} CHECKPOINT TEXT OUT.safetensors"); return 2; }
        using var source = LanguageModelCheckpoint.Open(args[0]);
        var tokens = source.Tokenize(args[1]);
        using var ids = tensor(tokens.Select(t => (long)t).ToArray());
        SafetensorsWriter.Write(args[2], [("ids", ids, SafetensorsDType.I64)]);
        Console.WriteLine($"{args[2]}: {ids.shape[0]} token ids");
        return 0;
    }
}
