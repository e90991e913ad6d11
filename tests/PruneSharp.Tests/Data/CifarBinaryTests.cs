using PruneSharp.Data;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Data;

public class CifarBinaryTests
{
    /// <summary>A record: the label bytes, then pixel (c, y, x) = (seed + c * 7 + y * 3 + x) mod 256, planar.</summary>
    static byte[] Record(byte[] labels, int seed)
    {
        var record = new byte[labels.Length + 3072];
        labels.CopyTo(record, 0);
        for (int c = 0; c < 3; c++)
        for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++)
            record[labels.Length + c * 1024 + y * 32 + x] = (byte)((seed + c * 7 + y * 3 + x) % 256);
        return record;
    }

    [Fact]
    public void Cifar10_train_reads_all_five_batches_in_order_with_planar_rgb()
    {
        using var dir = new TempFolder();
        string folder = dir.File("cifar-10-batches-bin");
        Directory.CreateDirectory(folder);
        for (int b = 1; b <= 5; b++)
            File.WriteAllBytes(Path.Combine(folder, $"data_batch_{b}.bin"), [.. Record([(byte)b], b * 10), .. Record([(byte)(b + 4)], b * 10 + 1)]);
        File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), Record([9], 99));

        var train = CifarBinary.LoadCifar10(DataSplit.Train, dir.Path);
        Assert.Equal(10, train.Count);
        Assert.Equal((3, 32, 32), (train.Channels, train.Height, train.Width));
        Assert.Equal(new long[] { 1, 5, 2, 6, 3, 7, 4, 8, 5, 9 }, Enumerable.Range(0, 10).Select(train.Label).ToArray());
        var pixels = train.Pixels(3);
        Assert.Equal((byte)((21 + 2 * 7 + 5 * 3 + 6) % 256), pixels[2 * 1024 + 5 * 32 + 6]);
        Assert.Equal("airplane", train.Classes[0]);

        var test = CifarBinary.LoadCifar10(DataSplit.Test, folder);
        Assert.Equal(1, test.Count);
        Assert.Equal(9, test.Label(0));
    }

    [Fact]
    public void Cifar100_reads_coarse_or_fine_label()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("test.bin"), [.. Record([3, 77], 0), .. Record([19, 99], 1)]);
        var fine = CifarBinary.LoadCifar100(DataSplit.Test, folder: dir.Path);
        var coarse = CifarBinary.LoadCifar100(DataSplit.Test, coarseLabels: true, folder: dir.Path);
        Assert.Equal(new long[] { 77, 99 }, new[] { fine.Label(0), fine.Label(1) });
        Assert.Equal(new long[] { 3, 19 }, new[] { coarse.Label(0), coarse.Label(1) });
        Assert.Equal(100, fine.Classes.Count);
        Assert.Equal(20, coarse.Classes.Count);
        Assert.Equal(fine.Pixels(1).ToArray(), coarse.Pixels(1).ToArray());
    }

    [Fact]
    public void Truncated_record_names_the_file()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("test_batch.bin"), Record([1], 0)[..^1]);
        var e = Assert.Throws<DataFormatException>(() => CifarBinary.LoadCifar10(DataSplit.Test, dir.Path));
        Assert.Equal(dir.File("test_batch.bin"), e.Path);
        Assert.Contains("3073-byte records", e.Message);
    }

    [Fact]
    public void Cifar100_file_read_as_cifar10_fails_on_labels()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("test_batch.bin"), [.. Record([3], 0), .. Record([250], 0)]);
        var e = Assert.Throws<DataFormatException>(() => CifarBinary.LoadCifar10(DataSplit.Test, dir.Path));
        Assert.Contains("label 250", e.Message);
    }

    [Fact]
    public void Missing_batch_file_is_named()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("data_batch_1.bin"), Record([1], 0));
        var e = Assert.Throws<DataNotFoundException>(() => CifarBinary.LoadCifar10(DataSplit.Train, dir.Path));
        Assert.Contains("data_batch_2.bin", e.Message);
    }
}
