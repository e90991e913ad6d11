using System.Text.Json;
using PruneSharp.Llm.Tokenizers;

namespace PruneSharp.Tests.Llm.Tokenizers;

/// <summary>
/// Ids produced by the real tokenizers library, one sub-folder per checkpoint in
/// <c>tests/PruneSharp.Tests/Llm/Tokenizers/Fixtures</c> (or <c>$PRUNESHARP_TOKENIZER_FIXTURES</c>): its
/// <c>tokenizer.json</c> and <c>expected_ids.json</c>, either <c>{"text": ..., "ids": [...]}</c> or a list of them,
/// with ids as the library's <c>encode(text, add_special_tokens=False)</c> gives and, optionally, <c>"decoded"</c>
/// as its <c>decode(ids)</c> gives. Skipped when there are none. The fixtures committed here are small tokenizers in
/// the layouts of GPT-2, Llama 3, Qwen2, Llama 2 and Mistral v0.3 (<c>make_tokenizers.py</c>), their ids from the
/// tokenizers library (<c>expected_ids.mjs</c>).
/// </summary>
public class TokenizerFixtureTests
{
    public static string Folder =>
        Environment.GetEnvironmentVariable("PRUNESHARP_TOKENIZER_FIXTURES") is { Length: > 0 } folder ? folder : SourceFolder();

    static string SourceFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PruneSharp.sln")))
                return Path.Combine(dir.FullName, "tests", "PruneSharp.Tests", "Llm", "Tokenizers", "Fixtures");
        return Path.Combine(AppContext.BaseDirectory, "Fixtures");
    }

    public sealed class FixturesFactAttribute : FactAttribute
    {
        public FixturesFactAttribute()
        {
            if (!Directory.Exists(Folder) || !Directory.EnumerateFiles(Folder, "expected_ids.json", SearchOption.AllDirectories).Any())
                Skip = $"no tokenizer fixtures in {Folder} (sub-folders with tokenizer.json and expected_ids.json)";
        }
    }

    [FixturesFact]
    public void Ids_and_decoded_text_match_the_tokenizers_library()
    {
        foreach (string expectedFile in Directory.EnumerateFiles(Folder, "expected_ids.json", SearchOption.AllDirectories).Order())
        {
            string folder = Path.GetDirectoryName(expectedFile)!;
            var tokenizer = HfTokenizer.Load(Path.Combine(folder, "tokenizer.json"));
            using var document = JsonDocument.Parse(File.ReadAllBytes(expectedFile));
            var cases = document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement.EnumerateArray().ToList() : [document.RootElement];
            foreach (var (example, i) in cases.Select((c, i) => (c, i)))
            {
                string text = example.GetProperty("text").GetString()!;
                int[] expected = example.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                int[] actual = tokenizer.Encode(text);
                Assert.True(expected.SequenceEqual(actual),
                    $"{expectedFile} case {i} ({JsonSerializer.Serialize(text)}): expected [{string.Join(",", expected)}] but got [{string.Join(",", actual)}]");
                if (example.TryGetProperty("decoded", out var decoded))
                    Assert.True(decoded.GetString() == tokenizer.Decode(expected),
                        $"{expectedFile} case {i}: decodes to {JsonSerializer.Serialize(tokenizer.Decode(expected))}, expected {decoded.GetRawText()}");
            }
        }
    }
}
