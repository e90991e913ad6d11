using static TorchSharp.torch;

namespace PruneSharp.Data.Inputs;

/// <summary>
/// The lines of a text file as a BERT-style encoder's inputs: one example per non-empty line, tokenised by the model's
/// own <see cref="WordPieceTokenizer"/> as <c>[CLS] pieces [SEP]</c>, cut to <see cref="Length"/> tokens and padded
/// with <c>[PAD]</c> up to it. An example is <see cref="InputIds"/>, <see cref="AttentionMask"/> (1 on tokens, 0 on
/// padding) and <see cref="TokenTypeIds"/> (0: one segment), each int64 <c>[Length]</c>; only the names asked for are produced.
/// </summary>
public sealed class TokenizedText : IInputExamples
{
    /// <summary>Name of the token ids input in exports of BERT-family models.</summary>
    public const string InputIds = "input_ids";

    /// <summary>Name of the attention mask input.</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>Name of the segment (token type) input.</summary>
    public const string TokenTypeIds = "token_type_ids";

    readonly long[][] _ids;
    readonly int _padding;
    readonly string _idsName;
    readonly bool _mask, _types;

    TokenizedText(long[][] ids, int length, int padding, string idsName, bool mask, bool types)
    {
        (_ids, Length, _padding, _idsName, _mask, _types) = (ids, length, padding, idsName, mask, types);
        Names = new[] { idsName }.Concat(mask ? new[] { AttentionMask } : []).Concat(types ? new[] { TokenTypeIds } : []).ToList();
    }

    /// <summary>Tokenises the non-empty lines of <paramref name="path"/>.</summary>
    /// <param name="path">A UTF-8 text file, one example per line.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="length">Tokens per example, [CLS] and [SEP] included (at least 2).</param>
    /// <param name="idsName">The input the token ids feed (<see cref="InputIds"/> in BERT exports).</param>
    /// <param name="mask">Also produce <see cref="AttentionMask"/>.</param>
    /// <param name="types">Also produce <see cref="TokenTypeIds"/>.</param>
    /// <exception cref="DataNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">It holds no non-empty line.</exception>
    public static TokenizedText Load(string path, WordPieceTokenizer tokenizer, int length, string idsName = InputIds, bool mask = true, bool types = true)
    {
        if (length < 2) throw new ArgumentOutOfRangeException(nameof(length), length, "a sequence holds at least [CLS] and [SEP]");
        if (!File.Exists(path)) throw new DataNotFoundException(path, "file does not exist");
        var ids = File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => tokenizer.EncodeSequence(l, length).Select(i => (long)i).ToArray()).ToArray();
        if (ids.Length == 0) throw new DataFormatException(path, "the text file holds no non-empty line (one example per line)");
        return new TokenizedText(ids, length, tokenizer.PaddingId, idsName, mask, types);
    }

    /// <summary>Tokens per example.</summary>
    public int Length { get; }

    /// <inheritdoc/>
    public int Count => _ids.Length;

    /// <inheritdoc/>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The token ids of example <paramref name="index"/>, without padding.</summary>
    public IReadOnlyList<long> Tokens(int index) => _ids[index];

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Tensor> Batch(IReadOnlyList<int> indices)
    {
        var ids = new long[indices.Count * Length];
        var mask = new long[indices.Count * Length];
        Array.Fill(ids, _padding);
        for (int row = 0; row < indices.Count; row++)
        {
            var tokens = _ids[indices[row]];
            tokens.CopyTo(ids, row * Length);
            Array.Fill(mask, 1L, row * Length, tokens.Length);
        }
        long[] shape = { indices.Count, Length };
        var batch = new Dictionary<string, Tensor> { [_idsName] = tensor(ids, shape) };
        if (_mask) batch[AttentionMask] = tensor(mask, shape);
        if (_types) batch[TokenTypeIds] = zeros(shape, int64);
        return batch;
    }
}
