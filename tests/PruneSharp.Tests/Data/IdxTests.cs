using System.IO.Compression;
using PruneSharp.Data;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Data;

public class IdxTests
{
    /// <summary>Writes an unsigned-byte IDX file by the format's definition.</summary>
    internal static void WriteIdx(string path, int[] shape, byte[] data, bool gzip = false)
    {
        var bytes = new List<byte> { 0, 0, 0x08, (byte)shape.Length };
        foreach (int size in shape) bytes.AddRange([(byte)(size >> 24), (byte)(size >> 16), (byte)(size >> 8), (byte)size]);
        bytes.AddRange(data);
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes.ToArray());
            return;
        }
        using var file = File.Create(path);
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(bytes.ToArray());
    }

    /// <summary>Writes a split of <paramref name="count"/> 3x4 images whose pixel (i, y, x) is i*12 + y*4 + x, labels i % 10.</summary>
    internal static (byte[] Pixels, byte[] Labels) WriteSplit(string folder, string prefix, int count, bool gzip)
    {
        var pixels = new byte[count * 12];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i % 251);
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
        string ext = gzip ? ".gz" : "";
        WriteIdx(Path.Combine(folder, $"{prefix}-images-idx3-ubyte{ext}"), [count, 3, 4], pixels, gzip);
        WriteIdx(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte{ext}"), [count], labels, gzip);
        return (pixels, labels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_split_loads_pixels_and_labels_as_written(bool gzip)
    {
        using var dir = new TempFolder();
        var (pixels, labels) = WriteSplit(dir.Path, "t10k", 7, gzip);
        var data = IdxImages.Load(dir.Path, DataSplit.Test, IdxImages.DigitClasses);
        Assert.Equal(7, data.Count);
        Assert.Equal((1, 3, 4), (data.Channels, data.Height, data.Width));
        for (int i = 0; i < 7; i++)
        {
            Assert.Equal(labels[i], data.Label(i));
            Assert.Equal(pixels.AsSpan(i * 12, 12).ToArray(), data.Pixels(i).ToArray());
        }

        data.Normalization = new Normalization([0.5f], [0.25f]);
        using var batch = data.GetBatch([6, 2]);
        Assert.Equal(new long[] { 2, 1, 3, 4 }, batch.Inputs.shape);
        Assert.Equal(new long[] { labels[6], labels[2] }, batch.Targets.data<long>().ToArray());
        var values = batch.Inputs.data<float>().ToArray();
        for (int k = 0; k < 12; k++)
            Assert.Equal((pixels[6 * 12 + k] / 255f - 0.5f) / 0.25f, values[k], 1e-5f);
    }

    [Fact]
    public void Wrong_magic_number_names_the_file()
    {
        using var dir = new TempFolder();
        WriteSplit(dir.Path, "train", 3, false);
        string images = dir.File("train-images-idx3-ubyte");
        var bytes = File.ReadAllBytes(images);
        bytes[0] = 0x1f + 1;
        File.WriteAllBytes(images, bytes);
        var e = Assert.Throws<DataFormatException>(() => IdxImages.Load(dir.Path, DataSplit.Train, IdxImages.DigitClasses));
        Assert.Equal(images, e.Path);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void Truncated_file_is_reported_with_sizes()
    {
        using var dir = new TempFolder();
        WriteSplit(dir.Path, "train", 3, false);
        string images = dir.File("train-images-idx3-ubyte");
        var bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..^5]);
        var e = Assert.Throws<DataFormatException>(() => IdxImages.Load(dir.Path, DataSplit.Train, IdxImages.DigitClasses));
        Assert.Equal(images, e.Path);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("36", e.Message);
    }

    [Fact]
    public void Label_and_image_counts_must_agree()
    {
        using var dir = new TempFolder();
        WriteSplit(dir.Path, "train", 3, true);
        WriteIdx(dir.File("train-labels-idx1-ubyte.gz"), [2], [1, 2], gzip: true);
        var e = Assert.Throws<DataFormatException>(() => IdxImages.Load(dir.Path, DataSplit.Train, IdxImages.DigitClasses));
        Assert.Contains("2 labels for 3 images", e.Message);
    }

    [Fact]
    public void Label_outside_the_classes_is_rejected()
    {
        using var dir = new TempFolder();
        WriteSplit(dir.Path, "train", 3, false);
        WriteIdx(dir.File("train-labels-idx1-ubyte"), [3], [1, 12, 2]);
        var e = Assert.Throws<DataFormatException>(() => IdxImages.Load(dir.Path, DataSplit.Train, IdxImages.DigitClasses));
        Assert.Contains("label 12", e.Message);
    }

    [Fact]
    public void Missing_folder_and_missing_file_are_not_found_errors()
    {
        using var dir = new TempFolder();
        Assert.Throws<DataNotFoundException>(() => IdxImages.Load(dir.File("nope"), DataSplit.Train, IdxImages.DigitClasses));
        var e = Assert.Throws<DataNotFoundException>(() => IdxImages.Load(dir.Path, DataSplit.Train, IdxImages.DigitClasses));
        Assert.Contains("train-images-idx3-ubyte", e.Message);
    }

    [RequiresPathFact(DataLocations.DebianFashionMnist, "dataset-fashion-mnist")]
    public void Debian_fashion_mnist_has_the_published_sizes_and_balanced_classes()
    {
        var train = IdxImages.LoadFashionMnist(DataSplit.Train, DataLocations.DebianFashionMnist);
        var test = IdxImages.LoadFashionMnist(DataSplit.Test);
        Assert.Equal(60000, train.Count);
        Assert.Equal(10000, test.Count);
        Assert.Equal((1, 28, 28), (train.Channels, train.Height, train.Width));
        var perClass = new int[10];
        for (int i = 0; i < test.Count; i++) perClass[test.Label(i)]++;
        Assert.All(perClass, n => Assert.Equal(1000, n));
        var stats = train.ComputeNormalization();
        Assert.InRange(stats.Mean[0], 0.27, 0.30);
        Assert.InRange(stats.Std[0], 0.34, 0.36);
    }
}
