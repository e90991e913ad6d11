using PruneSharp.Llm.Checkpoints;
using PruneSharp.Llm.Models;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Models;

/// <summary>
/// The decoder models against the real <c>transformers</c>: tiny checkpoints of every family that transformers 5.17
/// trained and saved (F32, F16, BF16; single file and sharded), with the logits it computed for fixed ids
/// (<c>Fixtures/README.md</c>). Our float32 forward must give the same logits.
/// </summary>
public class TransformersReferenceTests
{
    public static string Folder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "PruneSharp.sln")))
                    return Path.Combine(dir.FullName, "tests", "PruneSharp.Tests", "Llm", "Models", "Fixtures");
            throw new DirectoryNotFoundException("the repository root (PruneSharp.sln) is not above the test binaries");
        }
    }

    public static TheoryData<string> Checkpoints() => new(Directory.GetDirectories(Folder).Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void Logits_match_transformers(string name)
    {
        string folder = Path.Combine(Folder, name);
        using var checkpoint = HfCheckpoint.Open(folder);
        using var model = DecoderModel.Create(DecoderConfig.Parse(checkpoint.Config, Path.Combine(folder, "config.json")), checkpoint);
        using var reference = SafetensorsFile.Open(Path.Combine(folder, "reference.safetensors"));
        int cases = reference.Names.Count(n => n.EndsWith(".ids", StringComparison.Ordinal));
        Assert.True(cases >= 2);
        for (int i = 0; i < cases; i++)
        {
            using var scope = NewDisposeScope();
            var ids = reference.ReadStored($"case{i}.ids").unsqueeze(0);
            var expected = reference.Read($"case{i}.logits");
            var actual = model.Logits(ids)[0];
            double difference = (actual - expected).abs().max().item<float>();
            double scale = expected.abs().max().item<float>();
            Assert.True(difference <= 1e-4 * Math.Max(1, scale), $"{name} case {i}: logits differ from transformers' by up to {difference:G3} (largest logit {scale:G3})");
        }
    }
}
