using PruneSharp.Training;

namespace PruneSharp.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void Step_and_multi_step_decay_at_their_boundaries()
    {
        var step = new StepSchedule(1.0, 10, 0.5);
        Assert.Equal(new[] { 1.0, 1.0, 0.5, 0.25 }, new long[] { 0, 9, 10, 25 }.Select(step.At));
        var multi = new MultiStepSchedule(2.0, [3, 7], 0.1);
        Assert.Equal(new[] { 2.0, 0.2, 0.2, 0.02 }, new long[] { 2, 3, 6, 100 }.Select(s => Math.Round(multi.At(s), 12)));
    }

    [Fact]
    public void Cosine_falls_from_rate_to_minimum_through_the_midpoint()
    {
        var cosine = new CosineSchedule(0.1, 100, 0.001);
        Assert.Equal(0.1, cosine.At(0), 12);
        Assert.Equal((0.1 + 0.001) / 2, cosine.At(50), 12);
        Assert.Equal(0.001, cosine.At(100), 12);
        Assert.Equal(0.001, cosine.At(500), 12);
        for (long s = 1; s <= 100; s++) Assert.True(cosine.At(s) <= cosine.At(s - 1));
    }

    [Fact]
    public void Warmup_rises_linearly_then_runs_the_inner_schedule_from_its_start()
    {
        var schedule = new CosineSchedule(0.4, 10).WithWarmup(4);
        Assert.Equal(new[] { 0.1, 0.2, 0.3, 0.4 }, Enumerable.Range(0, 4).Select(s => Math.Round(schedule.At(s), 12)));
        for (int s = 4; s < 20; s++) Assert.Equal(new CosineSchedule(0.4, 10).At(s - 4), schedule.At(s));
    }

    [Fact]
    public void One_cycle_starts_low_peaks_at_the_given_fraction_and_ends_lowest()
    {
        var cycle = new OneCycleSchedule(1.0, 101, PercentStart: 0.3, DivFactor: 25, FinalDivFactor: 1e4);
        Assert.Equal(1.0 / 25, cycle.At(0), 12);
        Assert.Equal(1.0, cycle.At(30), 12);
        Assert.Equal(1.0 / 25 / 1e4, cycle.At(100), 12);
        for (long s = 1; s <= 30; s++) Assert.True(cycle.At(s) > cycle.At(s - 1));
        for (long s = 31; s <= 100; s++) Assert.True(cycle.At(s) < cycle.At(s - 1));
    }
}
