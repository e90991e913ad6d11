using PruneSharp.Data;

namespace PruneSharp.Tests.Data;

public class DataLocationsTests
{
    [Fact]
    public void A_missing_data_set_names_the_folders_searched_and_the_Debian_package()
    {
        var error = Assert.Throws<DataNotFoundException>(() => DataLocations.Find(DataLocations.FashionMnist, "no-such-file-idx3-ubyte"));
        Assert.Contains("/usr/share/datasets/fashion-mnist", error.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", error.Message);
        var other = Assert.Throws<DataNotFoundException>(() => DataLocations.Find(DataLocations.Cifar10, "no-such-file.bin"));
        Assert.DoesNotContain("apt-get", other.Message); // no package provides it
    }
}
