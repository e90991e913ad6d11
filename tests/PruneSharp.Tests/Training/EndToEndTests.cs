using PruneSharp.Data;
using PruneSharp.Engine;
using PruneSharp.Graph;
using PruneSharp.Tests.Support;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Training;

public class EndToEndTests
{
    public EndToEndTests() => TorchEngine.EnsureLoaded();

    /// <summary>Softmax regression as a graph: Flatten → Gemm(784 → 10).</summary>
    static GraphModule LinearGraph()
    {
        var g = new PruneSharp.Graph.Graph { Name = "softmax_regression", Opset = 17 };
        g.Inputs.Add(new ValueInfo("image", DataType.Float, [Dim.Named("batch"), (Dim)1, (Dim)28, (Dim)28]));
        g.Outputs.Add(new ValueInfo("logits", DataType.Float, [Dim.Named("batch"), (Dim)10]));
        g.Initializers["fc.weight"] = zeros(10, 784);
        g.Initializers["fc.bias"] = zeros(10);
        g.Nodes.Add(new Node("flatten", "Flatten", ["image"], ["flat"]));
        g.Nodes.Add(new Node("fc", "Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"],
            new Dictionary<string, AttributeValue> { ["transB"] = AttributeValue.FromInt(1L) }));
        return new GraphModule(g);
    }

    [RequiresPathFact(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    public void Graph_module_learns_fashion_mnist_with_checkpoints()
    {
        using var dir = new TempFolder();
        var train = IdxImages.LoadFashionMnist(DataSplit.Train);
        var test = IdxImages.LoadFashionMnist(DataSplit.Test);
        test.Normalization = train.Normalization = train.ComputeNormalization();
        using var model = LinearGraph();
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 2, BatchSize = 64, Seed = 1, CheckpointPath = dir.File("fmnist.ckpt"),
            Optimizer = new OptimizerSettings(Momentum: 0.9), Schedule = new CosineSchedule(0.01, 2 * 47),
        });
        var before = Evaluator.Classify(model, Subset.First(test, 1000));
        var result = trainer.Fit(Subset.First(train, 3000));
        var after = Evaluator.Classify(model, Subset.First(test, 1000));
        Assert.Equal(0.1, before.Top1, 1);
        Assert.True(after.Top1 > 0.7, $"top-1 {after.Top1}");
        Assert.True(after.Top5 > after.Top1);
        Assert.True(after.Loss < before.Loss);
        Assert.Equal(new TrainingPosition(2, 0, 94), result.Position);
        Assert.True(File.Exists(dir.File("fmnist.ckpt")));
    }

    [Fact]
    public void Bigram_model_trained_on_a_byte_corpus_beats_the_uniform_perplexity()
    {
        using var dir = new TempFolder();
        string text = string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 60));
        File.WriteAllText(dir.File("corpus.txt"), text);
        var corpus = TextCorpus.Load(dir.File("corpus.txt"), TextTokenizer.Bytes, heldOutFraction: 0.1);
        manual_seed(3);
        var model = new TinyModels.Bigram(256);
        var untrained = Evaluator.Perplexity(model, corpus.HeldOutTokens, contextLength: 32);
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 20, BatchSize = 8, Optimizer = new OptimizerSettings(OptimizerKind.Adam), Schedule = new ConstantSchedule(0.1),
        });
        var result = trainer.Fit(corpus.TrainSequences(32));
        Assert.NotNull(result.Epochs[^1].Accuracy);
        var trained = Evaluator.Perplexity(model, corpus.HeldOutTokens, contextLength: 32);
        Assert.Equal(corpus.HeldOutTokens.Length - 1, trained.TokenCount);
        Assert.True(trained.Perplexity < 4, $"perplexity {trained.Perplexity} (untrained {untrained.Perplexity})");
        Assert.True(untrained.Perplexity > 100);
    }
}
