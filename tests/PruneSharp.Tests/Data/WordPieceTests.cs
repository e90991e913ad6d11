using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Data;

/// <summary>WordPiece tokenisation against hand-worked examples, and tokenised text fed to a 3-input encoder.</summary>
public class WordPieceTests
{
    static readonly string[] Vocabulary =
    {
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##able", "runn", "##ing", ",", "!", "cafe", "hello", "##s",
    };

    static WordPieceTokenizer Tokenizer(TempFolder folder)
    {
        File.WriteAllLines(folder.File("vocab.txt"), Vocabulary);
        return WordPieceTokenizer.FromVocabulary(folder.File("vocab.txt"));
    }

    [Theory]
    [InlineData("unaffable", new[] { 6, 7, 8 })]                       // longest match first, ## continuations
    [InlineData("unable", new[] { 6, 8 })]                             // un + ##able
    [InlineData("The RUNNING, cafe!", new[] { 5, 9, 10, 11, 13, 12 })] // lower case, punctuation split off
    [InlineData("Café", new[] { 13 })]                                 // accent stripped
    [InlineData("runnings hellos", new[] { 9, 10, 15, 14, 15 })]
    [InlineData("xyz", new[] { 1 })]                                   // no split: [UNK]
    [InlineData("unaffablex", new[] { 1 })]                            // a word that cannot be split whole is [UNK]
    public void Encodes_as_worked_by_hand(string text, int[] ids)
    {
        using var folder = new TempFolder();
        Assert.Equal(ids, Tokenizer(folder).Encode(text));
    }

    [Fact]
    public void Sequences_are_wrapped_in_cls_and_sep_and_cut_to_length()
    {
        using var folder = new TempFolder();
        var tokenizer = Tokenizer(folder);
        Assert.Equal(16, tokenizer.VocabularySize);
        Assert.Equal(new[] { 2, 5, 13, 3 }, tokenizer.EncodeSequence("the cafe hello", 4));
        Assert.Equal(new[] { 2, 14, 3 }, tokenizer.EncodeSequence("hello", 10));
        File.WriteAllLines(folder.File("bad.txt"), new[] { "[PAD]", "[CLS]", "[SEP]", "hello" });
        Assert.Contains("no [UNK] token", Assert.Throws<DataFormatException>(() => WordPieceTokenizer.FromVocabulary(folder.File("bad.txt"))).Message);
    }

    [Fact]
    public void Tokenized_lines_are_padded_masked_and_fed_to_the_graph_by_name()
    {
        using var folder = new TempFolder();
        var tokenizer = Tokenizer(folder);
        File.WriteAllLines(folder.File("text.txt"), new[] { "the cafe", "", "unaffable hellos" });
        var text = TokenizedText.Load(folder.File("text.txt"), tokenizer, 6, types: false);
        Assert.Equal(2, text.Count);
        Assert.Equal(new[] { "input_ids", "attention_mask" }, text.Names);
        var batch = text.Batch(new[] { 0, 1 });
        Assert.Equal(new long[] { 2, 5, 13, 3, 0, 0, 2, 6, 7, 8, 14, 3 }, batch["input_ids"].data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1 }, batch["attention_mask"].data<long>().ToArray());

        var graph = MultiInputModel.Build(vocabulary: 16);
        var feed = new GraphFeed(graph, text);
        var inputs = feed.Inputs(new[] { 1, 0 });
        Assert.Equal(new long[] { 2, 6, 7, 8, 14, 3 }, inputs[0][0].data<long>().ToArray());
        Assert.Equal(new long[] { 2, 6 }, inputs[2].shape); // token_type_ids synthesised to the batch's shape
        Assert.InRange(inputs[2].max().item<long>(), 0, 1);
        using var module = new GraphModule(graph);
        using var _ = no_grad();
        Assert.Equal(new long[] { 2, 6, MultiInputModel.Hidden }, module.Run(inputs)[0].shape);

        var pixels = new TensorExamples(new Dictionary<string, Tensor> { ["pixel_values"] = zeros(2, 3) });
        Assert.Contains("'pixel_values', which the model does not take", Assert.Throws<ArgumentException>(() => new GraphFeed(graph, pixels)).Message);
    }

    [Fact]
    public void Tensor_examples_are_cast_to_the_inputs_type_and_must_agree_on_their_count()
    {
        var graph = MultiInputModel.Build();
        var ids = new TensorExamples(new Dictionary<string, Tensor> { ["input_ids"] = tensor(new[] { 1, 2, 3, 4, 5, 6 }).reshape(3, 2) });
        var inputs = new GraphFeed(graph, ids).Inputs(new[] { 2 });
        Assert.Equal(ScalarType.Int64, inputs[0].dtype);
        Assert.Equal(new long[] { 5, 6 }, inputs[0].data<long>().ToArray());
        Assert.True(inputs[1].eq(1).all().item<bool>());
        Assert.Contains("different numbers of examples", Assert.Throws<ArgumentException>(() => new TensorExamples(new Dictionary<string, Tensor>
        {
            ["input_ids"] = zeros(new long[] { 3, 2 }, int64), ["attention_mask"] = zeros(new long[] { 2, 2 }, int64),
        })).Message);
    }
}
