using static TorchSharp.torch;

namespace PruneSharp.Data;

/// <summary>
/// A token stream cut into non-overlapping sequences of length <c>L</c>: example <c>i</c> has input
/// <c>tokens[iL .. iL+L)</c> and target <c>tokens[iL+1 .. iL+L+1)</c> (the next token at every position).
/// Batches are int64 <c>[N, L]</c> inputs and targets.
/// </summary>
public sealed class TokenSequences : IDataset
{
    readonly int[] _tokens;

    /// <summary>Cuts <paramref name="tokens"/> into sequences of <paramref name="sequenceLength"/>.</summary>
    /// <exception cref="ArgumentException">Too few tokens for one sequence, or a token outside the vocabulary.</exception>
    public TokenSequences(int[] tokens, int sequenceLength, int vocabularySize)
    {
        if (sequenceLength <= 0) throw new ArgumentOutOfRangeException(nameof(sequenceLength), sequenceLength, "sequence length must be positive");
        if (tokens.Length < sequenceLength + 1)
            throw new ArgumentException($"{tokens.Length} tokens are too few for one sequence of {sequenceLength} (+1 for the shifted target)");
        for (int i = 0; i < tokens.Length; i++)
            if ((uint)tokens[i] >= (uint)vocabularySize)
                throw new ArgumentException($"token {tokens[i]} at position {i} is outside the vocabulary [0, {vocabularySize})");
        _tokens = tokens;
        SequenceLength = sequenceLength;
        VocabularySize = vocabularySize;
    }

    /// <summary>Tokens per sequence.</summary>
    public int SequenceLength { get; }

    /// <summary>Size of the vocabulary the ids come from.</summary>
    public int VocabularySize { get; }

    /// <inheritdoc/>
    public int Count => (_tokens.Length - 1) / SequenceLength;

    /// <inheritdoc/>
    public Batch GetBatch(IReadOnlyList<int> indices, DataRandom? random = null)
    {
        int length = SequenceLength;
        var inputs = new long[indices.Count * length];
        var targets = new long[indices.Count * length];
        for (int k = 0; k < indices.Count; k++)
        {
            int index = indices[k];
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), index, $"sequence index outside [0, {Count})");
            for (int t = 0; t < length; t++)
            {
                inputs[k * length + t] = _tokens[index * length + t];
                targets[k * length + t] = _tokens[index * length + t + 1];
            }
        }
        long[] shape = [indices.Count, length];
        return new Batch(tensor(inputs, shape), tensor(targets, shape));
    }
}
