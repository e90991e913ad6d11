using PruneSharp.Files;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Methods;
using PruneSharp.Tests.Support;
using PruneSharp.Tests.Training;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning.Methods;

[Collection(SerialCollection.Name)]
public class LotteryTicketTests
{
    static readonly PruneSharp.Data.ImageDataset Data = TinyModels.Columns(48, seed: 11);

    static TrainerOptions Training => new()
    {
        Epochs = 2, BatchSize = 16, Seed = 4,
        Optimizer = new OptimizerSettings(OptimizerKind.Sgd, Momentum: 0.9),
        Schedule = new ConstantSchedule(0.1),
    };

    /// <summary>Builds models and records each one's weights at its first training-mode forward pass.</summary>
    sealed class RecordingFactory
    {
        public List<Dictionary<string, Tensor>> FirstTrainingWeights { get; } = new();

        public nn.Module<Tensor, Tensor> Create(long seed)
        {
            var model = TinyModels.Mlp(seed, dropout: 0);
            int slot = -1;
            model.register_forward_pre_hook((m, input) =>
            {
                if (m.training && slot < 0)
                {
                    slot = FirstTrainingWeights.Count;
                    FirstTrainingWeights.Add(m.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone().DetachFromDisposeScope()));
                }
                return input;
            });
            return model;
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void Weight_rewinding_restarts_survivors_from_step_k(long k)
    {
        using var folder = new TempFolder();
        var factory = new RecordingFactory();
        var experiment = new LotteryTicketExperiment(factory.Create,
            new LotteryTicketOptions { Rounds = 1, Rate = 0.5, RewindStep = k, Training = Training }, Data, Data, folder.Path);
        experiment.Run();

        // The reference: the dense run's weights after k steps, reproduced by a plain trainer with the same settings.
        using var reference = TinyModels.Mlp(Training.Seed, dropout: 0);
        Dictionary<string, Tensor>? atK = k == 0 ? reference.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone().DetachFromDisposeScope()) : null;
        using (var trainer = new Trainer(reference, Training))
        {
            if (k > 0)
            {
                trainer.Callbacks.Add(new Capture(k, m => atK = m.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone().DetachFromDisposeScope())));
                trainer.Fit(Data);
            }
        }
        Assert.NotNull(atK);
        using var ticket = TinyModels.Mlp(0, dropout: 0);
        using var masks = new MaskSet(ticket);
        MaskFile.Load(masks, experiment.MaskPath(1));
        var started = factory.FirstTrainingWeights[1]; // model 0 is the dense run, model 1 the round-1 ticket
        foreach (var (name, value) in started)
        {
            var expected = masks.Contains(name) ? atK![name].mul(masks.Mask(name)) : atK![name];
            Assert.True(TestModels.Same(expected, value), $"{name} did not restart from step {k}");
        }
    }

    sealed class Capture(long step, Action<nn.Module> save) : ITrainingCallback
    {
        public void OnAfterOptimizerStep(TrainingContext context)
        {
            if (context.Position.Step == step) save(context.Model);
        }
    }

    [Fact]
    public void Resume_reuses_finished_rounds_and_trains_only_the_new_ones()
    {
        using var folder = new TempFolder();
        var options = new LotteryTicketOptions { Rounds = 2, Rate = 0.3, Training = Training, Variants = [TicketVariant.Ticket, TicketVariant.Random] };
        var first = new LotteryTicketExperiment(s => TinyModels.Mlp(s, 0), options, Data, Data, folder.Path);
        var firstResults = first.Run();
        Assert.Equal(1 + 2 * 2, first.TrainingRuns);
        Assert.All(firstResults, r => Assert.False(r.Reused));

        var again = new LotteryTicketExperiment(s => TinyModels.Mlp(s, 0), options with { Rounds = 3 }, Data, Data, folder.Path);
        var results = again.Run();

        Assert.Equal(2, again.TrainingRuns); // round 3's ticket and random control only
        Assert.All(results.Where(r => r.Round <= 2), r => Assert.True(r.Reused));
        Assert.All(results.Where(r => r.Round == 3), r => Assert.False(r.Reused));
        foreach (var old in firstResults)
            Assert.Equal(old.Test.Top1, results.Single(r => r.Round == old.Round && r.Variant == old.Variant).Test.Top1);
        Assert.Equal(Math.Pow(0.7, 3), results.Single(r => r.Round == 3 && r.Variant == TicketVariant.Ticket).Density, 2);
        Assert.True(File.Exists(again.TablePath));
        Assert.Equal(4, File.ReadAllLines(again.TablePath).Length - 1);
    }

    [Fact]
    public void Controls_keep_the_tickets_densities_and_other_settings_are_refused()
    {
        using var folder = new TempFolder();
        var options = new LotteryTicketOptions { Rounds = 1, Rate = 0.6, Training = Training with { Epochs = 1 }, Variants = [TicketVariant.Reinit, TicketVariant.Random] };
        var results = new LotteryTicketExperiment(s => TinyModels.Mlp(s, 0), options, Data, Data, folder.Path).Run();
        var round1 = results.Where(r => r.Round == 1).ToList();
        Assert.Equal(3, round1.Count);
        Assert.All(round1, r => Assert.Equal(round1[0].Density, r.Density, 9));

        var other = new LotteryTicketExperiment(s => TinyModels.Mlp(s, 0), options with { Rate = 0.5 }, Data, Data, folder.Path);
        var error = Assert.Throws<RunStateException>(() => other.Run());
        Assert.Contains("rate: was 0.6, now 0.5", error.Message);
    }
}
