using PruneSharp.Data;
using PruneSharp.Graph;
using PruneSharp.Tests.Graph;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Data;

public class PreprocessingTests
{
    [Fact]
    public void Normalize_reads_one_mean_and_std_per_channel()
    {
        var grey = Preprocessing.ParseNormalize("0.2860/0.3530");
        Assert.Equal(new[] { 0.2860f }, grey.Normalization!.Mean);
        Assert.Equal(new[] { 0.3530f }, grey.Normalization.Std);
        var rgb = Preprocessing.ParseNormalize("0.485,0.456,0.406/0.229,0.224,0.225");
        Assert.Equal(3, rgb.Normalization!.Mean.Count);
        Assert.Contains("0.286", grey.Describe());
    }

    [Theory]
    [InlineData("0.2860")]
    [InlineData("0.1,0.2/0.3")]
    [InlineData("0.1/0")]
    [InlineData("mean/0.3")]
    public void Bad_normalize_values_are_refused(string text) =>
        Assert.Throws<ArgumentException>(() => Preprocessing.ParseNormalize(text));

    [Fact]
    public void Metadata_round_trips_and_a_malformed_value_names_its_key()
    {
        var metadata = new Dictionary<string, string>();
        Preprocessing.ParseNormalize("0.485,0.456,0.406/0.229,0.224,0.225").WriteMetadata(metadata);
        var read = Preprocessing.FromMetadata(metadata, "m.onnx")!;
        Assert.Equal(new[] { 0.485f, 0.456f, 0.406f }, read.Normalization!.Mean);
        Assert.Equal(new[] { 0.229f, 0.224f, 0.225f }, read.Normalization.Std);
        Assert.False(read.InModel);
        Assert.Null(Preprocessing.FromMetadata(new Dictionary<string, string>(), "m.onnx"));
        metadata[Preprocessing.StdKey] = "0.2,x,0.2";
        var error = Assert.Throws<DataFormatException>(() => Preprocessing.FromMetadata(metadata, "m.onnx"));
        Assert.Contains(Preprocessing.StdKey, error.Message);
        Assert.Contains("m.onnx", error.Message);
    }

    [Fact]
    public void Embedded_normalisation_on_raw_inputs_equals_the_model_on_normalised_inputs()
    {
        var graph = UserModel.Build(normalisation: false);
        using var plain = new GraphModule(graph);
        var preprocessing = Preprocessing.ParseNormalize($"{UserModel.Mean}/{UserModel.Std}");
        var embedded = plain.ToGraph();
        var written = preprocessing.EmbedInto(embedded);
        using var inside = new GraphModule(embedded);
        Assert.True(written.InModel);
        Assert.Null(written.Fed);
        Assert.Equal("true", embedded.Metadata[Preprocessing.InModelKey]);
        Assert.Equal(plain.parameters().Count(), inside.parameters().Count()); // Constant nodes: nothing new to train
        var raw = rand(5, 1, 4, 4);
        using var expected = plain.call((raw - UserModel.Mean) / UserModel.Std);
        using var actual = inside.call(raw);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.Throws<ArgumentException>(() => written.EmbedInto(inside.ToGraph()));
        Assert.DoesNotContain(plain.ToGraph().Nodes, node => node.Inputs.Any(i => i.Contains("preprocessing"))); // the live model is untouched
    }

    [Fact]
    public void The_dataset_feeds_what_the_preprocessing_says()
    {
        var data = new ImageDataset(new byte[] { 0, 51, 255, 102 }, new long[] { 0 }, 1, 2, 2, ["a"]);
        data.Normalization = Preprocessing.ParseNormalize("0.2/0.5").Fed!;
        var values = data.GetBatch(new[] { 0 }).Inputs.reshape(-1).data<float>().ToArray();
        var expected = new[] { 0, 51, 255, 102 }.Select(p => (p / 255f - 0.2f) / 0.5f).ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], values[i], 5);
    }

    [Fact]
    public void Near_chance_accuracy_and_vocabulary_sized_perplexity_are_flagged()
    {
        var warning = Plausibility.Classification(new ClassificationMetrics(0.1691, 0.5, 2.3, 10000), 10);
        Assert.Contains("--normalize", warning);
        Assert.Contains("channel order", warning);
        Assert.Null(Plausibility.Classification(new ClassificationMetrics(0.9225, 0.99, 0.2, 10000), 10));
        Assert.NotNull(Plausibility.Perplexity(new PerplexityResult(200, Math.Log(200), 1000, 64, 64, "windows"), 256));
        Assert.Null(Plausibility.Perplexity(new PerplexityResult(6, Math.Log(6), 1000, 64, 64, "windows"), 256));
    }
}
