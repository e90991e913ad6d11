using PruneSharp.Graph;
using PruneSharp.Models;
using PruneSharp.Tests.Graph;
using PruneSharp.Training;

namespace PruneSharp.Tests.Training;

public class TrainableParametersTests
{
    static bool Same(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b) => PruneSharp.Tests.Pruning.TestModels.Same(a, b);

    static TrainerOptions Options(TrainableParameters? trainable = null) => new()
    {
        Epochs = 1, BatchSize = 16, Seed = 3, Threads = 1,
        Optimizer = new OptimizerSettings(OptimizerKind.Sgd, 0.9, WeightDecay: 1e-3),
        Schedule = new ConstantSchedule(0.1),
        Trainable = trainable ?? new TrainableParameters(),
    };

    [Fact]
    public void Fine_tuning_leaves_input_normalisation_constants_bit_exact_and_trains_the_layers()
    {
        using var model = new GraphModule(UserModel.Build());
        var before = model.Weights().ToDictionary(w => w.Key, w => w.Value.detach().clone());
        using (var trainer = new Trainer(model, Options()))
        {
            Assert.Equal(new[] { "mean", "std" }, trainer.Selection.Frozen.Select(f => f.Name));
            Assert.All(trainer.Selection.Frozen, f => Assert.Contains("input path", f.Reason));
            trainer.Fit(TinyModels.Columns(64, 5));
        }
        var after = model.Weights();
        Assert.True(Same(after["mean"], before["mean"]));
        Assert.True(Same(after["std"], before["std"]));
        foreach (var name in new[] { "conv1.weight", "conv1.bias", "fc2.weight", "fc3.weight", "fc3.bias", "head.weight" })
            Assert.False(Same(after[name], before[name]), $"{name} did not train");
    }

    [Fact]
    public void Train_only_and_freeze_override_the_default()
    {
        using var model = new GraphModule(UserModel.Build());
        var only = new TrainableParameters { TrainOnly = ["head.*", "mean"] }.Select(model);
        Assert.Equal(new HashSet<string> { "mean", "head.weight", "head.bias" }, only.Trained.ToHashSet());
        var frozen = new TrainableParameters { Freeze = ["conv*"] }.Select(model);
        Assert.DoesNotContain(frozen.Trained, n => n.StartsWith("conv", StringComparison.Ordinal));
        Assert.Contains(frozen.Frozen, f => f.Name == "conv1.weight" && f.Reason == "matches --freeze");
        var error = Assert.Throws<ArgumentException>(() => new TrainableParameters { Freeze = ["nothing*"] }.Select(model));
        Assert.Contains("'nothing*' matches no parameter", error.Message);
    }

    [Theory]
    [InlineData("lenet-5")]
    [InlineData("resnet-20")]
    [InlineData("mobilenet-v2")]
    public void Every_parameter_of_a_zoo_classifier_trains_by_default(string name)
    {
        using var model = ModelZoo.CreateClassifier(name, new ClassifierOptions(3, 32, 10, 0));
        Assert.Empty(new TrainableParameters().Select(model).Frozen);
    }
}
