using PruneSharp.Data;

namespace PruneSharp.Tests.Data;

public class AugmentationTests
{
    /// <summary>The naive definition: pad with zeros, crop at offset (dy, dx), then mirror if asked.</summary>
    static float[] Transform(byte[] image, int h, int w, int dy, int dx, bool flip)
    {
        var result = new float[h * w];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            int cx = flip ? w - 1 - x : x;
            int sy = y + dy, sx = cx + dx;
            result[y * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? image[sy * w + sx] / 255f : 0f;
        }
        return result;
    }

    [Fact]
    public void Every_augmented_image_is_one_padded_crop_or_its_mirror_and_all_occur()
    {
        const int h = 3, w = 4, pad = 1;
        var image = Enumerable.Range(1, h * w).Select(i => (byte)(i * 20)).ToArray();
        var data = new ImageDataset(Enumerable.Repeat(image, 200).SelectMany(p => p).ToArray(), new long[200], 1, h, w, ["only"])
        {
            Augmentation = new Augmentation(pad, HorizontalFlip: true),
        };
        var candidates = new List<(int, int, bool, float[])>();
        for (int dy = -pad; dy <= pad; dy++)
        for (int dx = -pad; dx <= pad; dx++)
        foreach (bool flip in new[] { false, true })
            candidates.Add((dy, dx, flip, Transform(image, h, w, dy, dx, flip)));

        using var batch = data.GetBatch(Enumerable.Range(0, 200).ToArray(), new DataRandom(5, 0));
        var values = batch.Inputs.data<float>().ToArray();
        var seen = new HashSet<(int, int, bool)>();
        for (int i = 0; i < 200; i++)
        {
            var got = values.AsSpan(i * h * w, h * w).ToArray();
            var match = candidates.Where(c => c.Item4.Zip(got, (a, b) => Math.Abs(a - b) < 1e-6).All(ok => ok)).ToList();
            Assert.NotEmpty(match);
            seen.Add((match[0].Item1, match[0].Item2, match[0].Item3));
        }
        Assert.Equal(18, seen.Count);

        using var plain = data.GetBatch([0]);
        Assert.Equal(Transform(image, h, w, 0, 0, false), plain.Inputs.data<float>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void Same_random_stream_gives_the_same_augmentation()
    {
        var image = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var data = new ImageDataset(image, [0], 1, 8, 8, ["x"]) { Augmentation = Augmentation.Cifar };
        using var a = data.GetBatch([0, 0, 0], new DataRandom(9, 1, 2));
        using var b = data.GetBatch([0, 0, 0], new DataRandom(9, 1, 2));
        Assert.Equal(a.Inputs.data<float>().ToArray(), b.Inputs.data<float>().ToArray());
    }
}
