using PruneSharp.Data;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Data;

public class TextCorpusTests
{
    [Fact]
    public void Byte_tokenizer_round_trips_utf8()
    {
        const string text = "Pruning – sparsity ✂";
        var ids = TextTokenizer.Bytes.Encode(text);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(text), ids.Length);
        Assert.All(ids, id => Assert.InRange(id, 0, 255));
        Assert.Equal(text, TextTokenizer.Bytes.Decode(ids));
    }

    [Fact]
    public void Held_out_part_is_the_last_fraction_of_the_tokens()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("b.txt"), "world");
        File.WriteAllText(dir.File("a.txt"), "hello");
        var corpus = TextCorpus.Load(dir.Path, TextTokenizer.Bytes, heldOutFraction: 0.25);
        string all = "hello\nworld";
        int heldOut = (int)Math.Round(all.Length * 0.25);
        Assert.Equal(all[..^heldOut], TextTokenizer.Bytes.Decode(corpus.TrainTokens));
        Assert.Equal(all[^heldOut..], TextTokenizer.Bytes.Decode(corpus.HeldOutTokens));
    }

    [Fact]
    public void Sequences_have_targets_shifted_by_one()
    {
        var tokens = Enumerable.Range(0, 23).ToArray();
        var sequences = new TokenSequences(tokens, 5, 256);
        Assert.Equal(4, sequences.Count);
        using var batch = sequences.GetBatch([3, 1]);
        Assert.Equal(new long[] { 2, 5 }, batch.Inputs.shape);
        Assert.Equal(new long[] { 15, 16, 17, 18, 19, 5, 6, 7, 8, 9 }, batch.Inputs.data<long>().ToArray());
        Assert.Equal(new long[] { 16, 17, 18, 19, 20, 6, 7, 8, 9, 10 }, batch.Targets.data<long>().ToArray());
    }

    [Fact]
    public void Bpe_tokenizer_from_user_files_applies_the_merges()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("vocab.json"), """{"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4}""");
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\na b\nab c\n");
        var tokenizer = TextTokenizer.FromBpeFiles(dir.File("vocab.json"), dir.File("merges.txt"));
        Assert.Equal(5, tokenizer.VocabularySize);
        Assert.Equal(new[] { 4, 3, 0 }, tokenizer.Encode("abcaba"));
        Assert.Equal("abcaba", tokenizer.Decode([4, 3, 0]));
    }

    [Fact]
    public void Tiktoken_rank_file_merges_lowest_rank_first()
    {
        using var dir = new TempFolder();
        string B64(string token) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(token));
        File.WriteAllLines(dir.File("tiny.tiktoken"), new[] { "a", "b", "c", "ab", "abc", " " }.Select((t, rank) => $"{B64(t)} {rank}"));
        var tokenizer = TextTokenizer.FromTiktokenFile(dir.File("tiny.tiktoken"));
        Assert.Equal(6, tokenizer.VocabularySize);
        Assert.Equal(new[] { 4, 3, 5, 2, 1 }, tokenizer.Encode("abcab cb"));
        Assert.Equal("abcab cb", tokenizer.Decode([4, 3, 5, 2, 1]));
        File.WriteAllText(dir.File("bad.tiktoken"), "not base64 at all\n");
        Assert.Equal(dir.File("bad.tiktoken"), Assert.Throws<DataFormatException>(() => TextTokenizer.FromTiktokenFile(dir.File("bad.tiktoken"))).Path);
    }

    [Fact]
    public void Missing_tokenizer_file_and_empty_corpus_are_named()
    {
        using var dir = new TempFolder();
        Assert.Throws<DataNotFoundException>(() => TextTokenizer.FromBpeFiles(dir.File("vocab.json"), dir.File("merges.txt")));
        File.WriteAllText(dir.File("empty.txt"), "");
        var e = Assert.Throws<DataFormatException>(() => TextCorpus.Load(dir.File("empty.txt"), TextTokenizer.Bytes));
        Assert.Equal(dir.File("empty.txt"), e.Path);
        Assert.Throws<DataNotFoundException>(() => TextCorpus.Load(dir.File("absent"), TextTokenizer.Bytes));
    }
}
