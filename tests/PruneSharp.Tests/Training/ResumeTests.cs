using PruneSharp.Data;
using PruneSharp.Engine;
using PruneSharp.Tests.Support;
using PruneSharp.Training;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Training;

/// <summary>Exact resume needs the default generator and the thread count to itself, so these run serially.</summary>
[Collection(SerialCollection.Name)]
public class ResumeTests
{
    public ResumeTests() => TorchEngine.EnsureLoaded();

    public static TheoryData<OptimizerKind, int, int> CancelPoints => new()
    {
        { OptimizerKind.Sgd, 1, 0 },   // cancelled at the end of epoch 1
        { OptimizerKind.Sgd, 2, 3 },   // cancelled after batch 3 of epoch 2
        { OptimizerKind.AdamW, 0, 5 }, // cancelled before the last (incomplete) batch of epoch 0
        { OptimizerKind.Adam, 1, 2 },
    };

    [Theory]
    [MemberData(nameof(CancelPoints))]
    public void Cancelled_and_resumed_run_ends_bit_identical_to_an_uninterrupted_run(OptimizerKind kind, int cancelEpoch, int cancelAfterBatch)
    {
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            using var dir = new TempFolder();
            var data = TinyModels.Columns(90, 5);
            data.Augmentation = new Augmentation(1, HorizontalFlip: true);
            TrainerOptions Options(string checkpoint) => new()
            {
                Epochs = 4, BatchSize = 16, Seed = 11, CheckpointPath = checkpoint, ClipGradientNorm = 1.0,
                Optimizer = new OptimizerSettings(kind, Momentum: kind == OptimizerKind.Sgd ? 0.9 : 0, WeightDecay: 1e-3),
                Schedule = new CosineSchedule(0.05, 24).WithWarmup(4),
            };

            var reference = TinyModels.Mlp(7);
            using (var trainer = new Trainer(reference, Options(dir.File("reference.ckpt"))))
                Assert.False(trainer.Fit(data).Cancelled);

            var interrupted = TinyModels.Mlp(7);
            using var cancel = new CancellationTokenSource();
            using (var trainer = new Trainer(interrupted, Options(dir.File("run.ckpt"))))
            {
                trainer.Callbacks.Add(new TrainerTests.Recorder((name, c) =>
                {
                    // At an epoch's end the position already stands at the start of the next epoch.
                    if ((cancelAfterBatch == 0 && name == "epoch-end" && c.Position.Epoch == cancelEpoch + 1)
                        || (cancelAfterBatch > 0 && name == "after-step" && c.Position.Epoch == cancelEpoch && c.Position.Batch == cancelAfterBatch))
                        cancel.Cancel();
                }));
                var first = trainer.Fit(data, cancel.Token);
                Assert.True(first.Cancelled);
                var expected = cancelAfterBatch == 0 ? new TrainingPosition(cancelEpoch + 1, 0, (cancelEpoch + 1) * 6L) : new TrainingPosition(cancelEpoch, cancelAfterBatch, cancelEpoch * 6L + cancelAfterBatch);
                Assert.Equal(expected, first.Position);
            }
            Assert.NotEqual(TinyModels.Weights(reference), TinyModels.Weights(interrupted));

            manual_seed(12345); // the resumed run must not depend on the generator state it starts with
            var resumed = TinyModels.Mlp(99);
            using (var trainer = new Trainer(resumed, Options(dir.File("run.ckpt"))))
            {
                trainer.LoadCheckpoint(dir.File("run.ckpt"));
                var rest = trainer.Fit(data);
                Assert.False(rest.Cancelled);
                Assert.Equal(new TrainingPosition(4, 0, 24), rest.Position);
            }
            Assert.Equal(TinyModels.Weights(reference), TinyModels.Weights(resumed));
            Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
        }
        finally
        {
            set_num_threads(threads);
        }
    }
}
