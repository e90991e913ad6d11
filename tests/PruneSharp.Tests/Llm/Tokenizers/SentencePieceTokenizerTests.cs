using System.Text.Json;
using PruneSharp.Data;
using PruneSharp.Llm;
using PruneSharp.Tests.Llm.Models;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Llm.Tokenizers;

/// <summary>
/// <c>tokenizer.model</c> (SentencePiece) against the ids Debian's python3-sentencepiece gives for the same models
/// (<c>SentencePiece/make_sentencepiece.py</c>): BPE with byte fallback in Llama 2's layout, and Unigram with NFKC.
/// </summary>
public class SentencePieceTokenizerTests
{
    static string Folder(string name) => Path.Combine(TokenizerFixtureTests.Folder, "..", "SentencePiece", name);

    [Theory]
    [InlineData("sp-bpe")]
    [InlineData("sp-unigram")]
    public void Ids_and_decoded_text_match_sentencepiece(string name)
    {
        var tokenizer = TextTokenizer.FromSentencePieceModel(Path.Combine(Folder(name), "tokenizer.model"));
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder(name), "expected_sentencepiece_ids.json")));
        foreach (var example in document.RootElement.EnumerateArray())
        {
            string text = example.GetProperty("text").GetString()!;
            int[] expected = example.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int[] actual = tokenizer.Encode(text);
            Assert.True(expected.SequenceEqual(actual), $"{name}, '{text}': expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
            Assert.All(actual, id => Assert.InRange(id, 0, tokenizer.VocabularySize - 1));
            Assert.Equal(example.GetProperty("decoded").GetString(), tokenizer.Decode(actual));
        }
    }

    [Fact]
    public void A_file_that_is_not_a_sentencepiece_model_is_named()
    {
        using var temp = new TempFolder();
        string file = temp.File("tokenizer.model");
        File.WriteAllBytes(file, [0x0a, 0xff, 0xff, 0xff, 0x01, 0x02]);
        var error = Assert.Throws<DataFormatException>(() => TextTokenizer.FromSentencePieceModel(file));
        Assert.Contains(file, error.Message);
        Assert.Contains("SentencePiece", error.Message);
        Assert.Throws<DataNotFoundException>(() => TextTokenizer.FromSentencePieceModel(temp.File("absent.model")));
    }

    [Fact]
    public void A_checkpoint_with_only_tokenizer_model_uses_it()
    {
        using var temp = new TempFolder();
        string checkpoint = temp.File("llama");
        Directory.CreateDirectory(checkpoint);
        foreach (string file in Directory.GetFiles(Path.Combine(TransformersReferenceTests.Folder, "llama-gqa-bf16-sharded")))
            if (Path.GetFileName(file) is not ("tokenizer.json" or "tokenizer_config.json")) File.Copy(file, Path.Combine(checkpoint, Path.GetFileName(file)));
        File.Copy(Path.Combine(Folder("sp-bpe"), "tokenizer.model"), Path.Combine(checkpoint, "tokenizer.model"));
        string text = temp.File("text.txt");
        File.WriteAllText(text, "In the beginning God created the heaven and the earth.");

        using var source = LanguageModelCheckpoint.Open(checkpoint);
        var expected = TextTokenizer.FromSentencePieceModel(Path.Combine(checkpoint, "tokenizer.model")).Encode(File.ReadAllText(text));
        Assert.Equal(expected, source.Tokenize(text));

        File.Delete(Path.Combine(checkpoint, "tokenizer.model"));
        var error = Assert.Throws<DataNotFoundException>(() => source.Tokenizer());
        Assert.Contains("neither tokenizer.json nor tokenizer.model", error.Message);
    }
}
