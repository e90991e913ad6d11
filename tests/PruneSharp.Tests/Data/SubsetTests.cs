using PruneSharp.Data;

namespace PruneSharp.Tests.Data;

public class SubsetTests
{
    [Fact]
    public void Subset_maps_its_indices_onto_the_source()
    {
        var labels = Enumerable.Range(0, 8).Select(i => (long)i).ToArray();
        var source = new ImageDataset(new byte[8], labels, 1, 1, 1, Enumerable.Range(0, 8).Select(i => $"c{i}").ToArray());
        var subset = new Subset(source, [7, 2, 5]);
        Assert.Equal(3, subset.Count);
        using var batch = subset.GetBatch([2, 0]);
        Assert.Equal(new long[] { 5, 7 }, batch.Targets.data<long>().ToArray());
        Assert.Equal(8, Subset.First(source, 100).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Subset(source, [8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => subset.GetBatch([3]));
    }
}
