using PruneSharp.Data;

namespace PruneSharp.Tests.Data;

public class BatchPlanTests
{
    [Fact]
    public void Shuffled_epoch_is_a_permutation_that_depends_only_on_seed_and_epoch()
    {
        var plan = new BatchPlan(4, Shuffle: true, Seed: 3);
        var epoch0 = plan.Indices(10, 0).SelectMany(b => b).ToArray();
        Assert.Equal(Enumerable.Range(0, 10), epoch0.Order());
        Assert.Equal(epoch0, new BatchPlan(4, true, 3).Indices(10, 0).SelectMany(b => b));
        Assert.NotEqual(epoch0, plan.Indices(10, 1).SelectMany(b => b));
        Assert.NotEqual(epoch0, new BatchPlan(4, true, 4).Indices(10, 0).SelectMany(b => b));
        Assert.Equal(new[] { 4, 4, 2 }, plan.Indices(10, 0).Select(b => b.Length));
    }

    [Fact]
    public void Unshuffled_plan_keeps_order_and_drop_last_drops_the_remainder()
    {
        var plan = new BatchPlan(4, Shuffle: false, DropLast: true);
        Assert.Equal(2, plan.BatchesPerEpoch(10));
        Assert.Equal(Enumerable.Range(0, 8), plan.Indices(10, 5).SelectMany(b => b));
    }

    [Fact]
    public void Random_integers_are_uniform_enough()
    {
        var random = new DataRandom(1, 2);
        var counts = new int[6];
        for (int i = 0; i < 60000; i++) counts[random.Next(6)]++;
        Assert.All(counts, c => Assert.InRange(c, 9500, 10500));
    }

    [Fact]
    public void Batches_from_a_later_batch_are_the_tail_of_the_epoch()
    {
        var labels = Enumerable.Range(0, 11).Select(i => (long)i).ToArray();
        var data = new ImageDataset(new byte[11], labels, 1, 1, 1, Enumerable.Range(0, 11).Select(i => $"c{i}").ToArray());
        var plan = new BatchPlan(3, Shuffle: true, Seed: 8);
        var expected = plan.Indices(11, 4).Skip(2).SelectMany(b => b).Select(i => (long)i);
        var actual = plan.Batches(data, 4, firstBatch: 2).SelectMany(b => { using (b) return b.Targets.data<long>().ToArray(); });
        Assert.Equal(expected, actual);
    }
}
