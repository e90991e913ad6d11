using PruneSharp.Graph;
using PruneSharp.Models;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Models;

public class ModelZooTests
{
    static long Parameters(nn.Module module) => module.parameters().Sum(p => p.numel());

    [Theory]
    [InlineData("lenet-300-100", 1, 28, 10, 266_610)]   // LeCun et al. 1998; Han et al. 2015
    [InlineData("lenet-5", 1, 28, 10, 61_706)]
    [InlineData("conv-2", 3, 32, 10, 4_301_642)]        // Frankle & Carbin 2019, Fig. 2: 4.3M
    [InlineData("conv-4", 3, 32, 10, 2_425_930)]        // 2.4M
    [InlineData("conv-6", 3, 32, 10, 2_262_602)]        // from the layer sizes; the paper lists 1.7M
    [InlineData("resnet-18", 3, 224, 1000, 11_689_512)] // torchvision
    [InlineData("mobilenet-v2", 3, 32, 10, 2_236_682)]
    public void Parameter_counts_match_the_published_ones(string name, long channels, long size, long classes, long expected)
    {
        using var model = ModelZoo.CreateClassifier(name, new ClassifierOptions(channels, size, classes));
        Assert.Equal(expected, Parameters(model));
    }

    [Theory]
    [InlineData("lenet-300-100")]
    [InlineData("lenet-5")]
    [InlineData("conv-2")]
    [InlineData("vgg-11")]
    [InlineData("resnet-20")]
    [InlineData("mobilenet-v2")]
    public void Classifiers_map_a_fashion_mnist_batch_to_logits(string name)
    {
        using var model = ModelZoo.CreateClassifier(name, new ClassifierOptions(1, 28, 10));
        model.eval();
        using var logits = model.call(randn(2, 1, 28, 28));
        Assert.Equal(new long[] { 2, 10 }, logits.shape);
        Assert.False(logits.isnan().any().item<bool>());
    }

    [Fact]
    public void Same_seed_gives_the_same_weights()
    {
        using var a = ModelZoo.CreateClassifier("lenet-5", new ClassifierOptions(Seed: 3));
        using var b = ModelZoo.CreateClassifier("lenet-5", new ClassifierOptions(Seed: 3));
        using var c = ModelZoo.CreateClassifier("lenet-5", new ClassifierOptions(Seed: 4));
        Assert.True(a.get_parameter("conv1.weight")!.equal(b.get_parameter("conv1.weight")!).all().item<bool>());
        Assert.False(a.get_parameter("conv1.weight")!.equal(c.get_parameter("conv1.weight")!).all().item<bool>());
    }

    [Fact]
    public void Resnet_20_has_the_published_size_and_19_convolutions_plus_projections()
    {
        using var model = ModelZoo.CreateClassifier("resnet-20", new ClassifierOptions(3, 32, 10));
        Assert.InRange(Parameters(model), 265_000, 275_000); // He et al. 2016: 0.27M
        Assert.Equal(19 + 2, model.Graph.Nodes.Count(n => n.OpType == "Conv"));
    }

    [Fact]
    public void Tiny_gpt_is_causal_and_ties_its_head()
    {
        var options = new TinyGptOptions(VocabularySize: 50, ContextLength: 16, Layers: 2, Heads: 2, Width: 32);
        using var model = TinyGpt.Create(options);
        model.eval();
        var ids = randint(0, 50, new long[] { 2, 10 }, dtype: int64);
        using var logits = model.call(ids);
        Assert.Equal(new long[] { 2, 10, 50 }, logits.shape);

        // Changing a later token must not change earlier positions' logits.
        var changed = ids.clone();
        changed[TensorIndex.Colon, 7] = (ids[TensorIndex.Colon, 7] + 1) % 50;
        using var after = model.call(changed);
        Assert.True(logits[TensorIndex.Colon, TensorIndex.Slice(0, 7)].allclose(after[TensorIndex.Colon, TensorIndex.Slice(0, 7)], 1e-5, 1e-6));
        Assert.False(logits[TensorIndex.Colon, 7].allclose(after[TensorIndex.Colon, 7]));

        Assert.DoesNotContain(model.named_parameters(), p => p.name.StartsWith("head"));
        long width = options.Width, vocab = options.VocabularySize, context = options.ContextLength;
        long perBlock = 4 * (width * width + width) + (width * 4 * width + 4 * width) + (4 * width * width + width) + 4 * width;
        Assert.Equal(vocab * width + context * width + 2 * perBlock + 2 * width, Parameters(model));
    }
}
