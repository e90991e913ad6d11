using PruneSharp.Data;
using static TorchSharp.torch;

namespace PruneSharp.Llm;

/// <summary>
/// Windows of consecutive token ids cut from a tokenised text, as the retraining-free pruning papers use them:
/// calibration windows drawn at random starts with a seed, and evaluation windows that tile the text.
/// </summary>
public static class TokenWindows
{
    /// <summary>
    /// <paramref name="count"/> windows of <paramref name="length"/> consecutive ids, each starting at a position drawn
    /// uniformly from <c>[0, ids.Length − length]</c> by a generator seeded with <paramref name="seed"/> (windows may overlap).
    /// </summary>
    /// <returns>int64 <c>[count, length]</c>.</returns>
    /// <exception cref="ArgumentException">Fewer ids than one window, or a non-positive count or length.</exception>
    public static Tensor Calibration(int[] ids, int count, int length, long seed)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "the number of calibration windows must be positive");
        Check(ids, length, "calibration");
        var random = new DataRandom(seed, 0x63616C69); // "cali": its own stream
        var windows = new long[(long)count * length];
        for (int w = 0; w < count; w++)
        {
            int start = random.Next(ids.Length - length + 1);
            for (int t = 0; t < length; t++) windows[(long)w * length + t] = ids[start + t];
        }
        return tensor(windows, [count, length]);
    }

    /// <summary>
    /// The ids cut into non-overlapping windows of <paramref name="length"/>: window <c>w</c> holds
    /// <c>ids[wL, (w+1)L)</c>; the remainder after the last whole window is dropped.
    /// </summary>
    /// <returns>int64 <c>[ids.Length / length, length]</c>.</returns>
    /// <exception cref="ArgumentException">Fewer ids than one window.</exception>
    public static Tensor Evaluation(int[] ids, int length)
    {
        Check(ids, length, "evaluation");
        int count = ids.Length / length;
        var windows = new long[(long)count * length];
        for (long i = 0; i < windows.Length; i++) windows[i] = ids[i];
        return tensor(windows, [count, length]);
    }

    static void Check(int[] ids, int length, string use)
    {
        if (length < 2) throw new ArgumentOutOfRangeException(nameof(length), length, $"{use} windows need at least 2 tokens");
        if (ids.Length < length)
            throw new ArgumentException($"the text has {ids.Length} tokens, fewer than one {use} window of {length}; give a longer text or a shorter --seqlen");
    }
}
