using PruneSharp.Pruning;
using PruneSharp.Pruning.Criteria;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Pruning.Masks;
using PruneSharp.Pruning.Schedules;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning;

public class ScheduleTests
{
    [Fact]
    public void Iterative_rounds_remove_the_same_fraction_of_survivors()
    {
        var schedule = new IterativeSchedule(0.9, 4);
        Assert.Equal(Math.Pow(0.1, 0.25), schedule.KeepPerRound, 12);
        for (int r = 1; r <= 4; r++)
            Assert.Equal((1 - schedule.SparsityAt(r - 1)) * schedule.KeepPerRound, 1 - schedule.SparsityAt(r), 12);
        Assert.Equal(0.9, schedule.SparsityAt(4));
        Assert.False(schedule.ShouldPrune(0));
        Assert.True(schedule.ShouldPrune(4));
        Assert.False(schedule.ShouldPrune(5));
    }

    [Fact]
    public void Gradual_schedule_follows_the_cubic_of_Zhu_and_Gupta()
    {
        var schedule = new GradualSchedule(finalSparsity: 0.8, startStep: 100, endStep: 1100, frequency: 100, initialSparsity: 0.1);
        Assert.Equal(0, schedule.SparsityAt(99));
        Assert.Equal(0.1, schedule.SparsityAt(100), 12);
        Assert.Equal(0.8 + (0.1 - 0.8) * Math.Pow(1 - 0.5, 3), schedule.SparsityAt(600), 12);
        Assert.Equal(schedule.SparsityAt(600), schedule.SparsityAt(650), 12);
        Assert.Equal(0.8, schedule.SparsityAt(1100), 12);
        Assert.Equal(0.8, schedule.SparsityAt(5000), 12);
        var steps = Enumerable.Range(0, 1300).Where(s => schedule.ShouldPrune(s)).ToArray();
        Assert.Equal(Enumerable.Range(1, 11).Select(i => i * 100), steps);
        for (int s = 101; s < 1200; s++) Assert.True(schedule.SparsityAt(s) >= schedule.SparsityAt(s - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradualSchedule(0.8, 10, 10, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradualSchedule(1.2, 0, 10, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradualSchedule(0.5, 0, 10, 0));
    }

    [Fact]
    public void Scheduled_pruning_in_a_training_loop_reaches_the_target_with_pruned_weights_at_zero()
    {
        using var model = TestModels.Mlp();
        var optimizer = optim.SGD(model.parameters(), 0.05, momentum: 0.9, weight_decay: 1e-3);
        using var masks = new MaskSet(model);
        var hooks = new ScheduledPruning(new Pruner(masks, new MagnitudeCriterion(), new ElementGranularity()),
            new GradualSchedule(finalSparsity: 0.75, startStep: 2, endStep: 12, frequency: 2));
        var x = randn(32, 12);
        var y = randint(0, 4, 32);
        var prunedAt = new List<long>();
        for (long step = 1; step <= 15; step++)
        {
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.call(x), y).backward();
            hooks.AfterBackward();
            optimizer.step();
            if (hooks.AfterStep(step) is { } result)
            {
                prunedAt.Add(step);
                Assert.All(result, r => Assert.Equal(hooks.Schedule.SparsityAt(step), r.TargetSparsity));
            }
            foreach (var name in masks.Names)
                Assert.Equal(0, TestModels.NonZeros(masks.Parameter(name).mul(masks.Mask(name).logical_not())));
        }
        Assert.Equal(new long[] { 2, 4, 6, 8, 10, 12 }, prunedAt);
        Assert.Equal(192 - 144, masks.Kept("fc1.weight"));
    }
}
