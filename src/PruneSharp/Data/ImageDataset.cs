using static TorchSharp.torch;

namespace PruneSharp.Data;

/// <summary>
/// Labelled 8-bit images held in memory (<c>[N, C, H, W]</c> bytes), served as normalised float32 batches
/// with optional seeded augmentation. The IDX, CIFAR and image-folder readers all produce this type.
/// </summary>
public sealed class ImageDataset : IDataset
{
    readonly byte[] _pixels;
    readonly long[] _labels;

    /// <summary>Wraps <paramref name="pixels"/> (<c>count × channels × height × width</c> bytes, row-major) and one label per image.</summary>
    /// <exception cref="ArgumentException">Sizes disagree, or a label is outside <c>[0, classes.Count)</c>.</exception>
    public ImageDataset(byte[] pixels, long[] labels, int channels, int height, int width, IReadOnlyList<string> classes)
    {
        if (channels <= 0 || height <= 0 || width <= 0) throw new ArgumentException($"image size {channels}x{height}x{width} must be positive");
        long expected = (long)labels.Length * channels * height * width;
        if (pixels.LongLength != expected)
            throw new ArgumentException($"{labels.Length} labels of {channels}x{height}x{width} images need {expected} pixel bytes, got {pixels.LongLength}");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] < 0 || labels[i] >= classes.Count)
                throw new ArgumentException($"label {labels[i]} of example {i} is outside [0, {classes.Count})");
        _pixels = pixels;
        _labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        Classes = classes;
        Normalization = Normalization.None(channels);
    }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <summary>Channels per image (1 for grey, 3 for RGB).</summary>
    public int Channels { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Class names, indexed by label.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Per-channel normalisation applied to every batch (default: pixels scaled to 0..1).</summary>
    public Normalization Normalization
    {
        get => _normalization;
        set { value.Validate(Channels); _normalization = value; }
    }
    Normalization _normalization = null!;

    /// <summary>Augmentation applied when a batch is requested with a random stream (training); <c>null</c>: none.</summary>
    public Augmentation? Augmentation { get; set; }

    /// <summary>The label of example <paramref name="index"/>.</summary>
    public long Label(int index) => _labels[index];

    /// <summary>The raw bytes (<c>C × H × W</c>) of example <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Pixels(int index)
    {
        int size = Channels * Height * Width;
        return _pixels.AsSpan(index * size, size);
    }

    /// <summary>Mean and standard deviation of every channel over the whole set (on the 0..1 scale).</summary>
    public Normalization ComputeNormalization()
    {
        int plane = Height * Width;
        var mean = new float[Channels];
        var std = new float[Channels];
        for (int c = 0; c < Channels; c++)
        {
            double sum = 0, sumSq = 0;
            for (int i = 0; i < Count; i++)
                foreach (byte p in _pixels.AsSpan((i * Channels + c) * plane, plane))
                {
                    sum += p;
                    sumSq += (double)p * p;
                }
            double n = (double)Count * plane, m = sum / n;
            mean[c] = (float)(m / 255);
            std[c] = (float)(Math.Sqrt(Math.Max(sumSq / n - m * m, 0)) / 255);
            if (std[c] == 0) std[c] = 1;
        }
        return new Normalization(mean, std);
    }

    /// <inheritdoc/>
    public Batch GetBatch(IReadOnlyList<int> indices, DataRandom? random = null)
    {
        int plane = Height * Width, size = Channels * plane;
        var values = new float[indices.Count * size];
        var targets = new long[indices.Count];
        var scale = new float[Channels];
        var shift = new float[Channels];
        for (int c = 0; c < Channels; c++)
        {
            scale[c] = 1f / (255f * Normalization.Std[c]);
            shift[c] = -Normalization.Mean[c] / Normalization.Std[c];
        }
        var augmentation = random is null ? null : Augmentation;
        for (int k = 0; k < indices.Count; k++)
        {
            int index = indices[k];
            if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), index, $"example index outside [0, {Count})");
            targets[k] = _labels[index];
            int dy = 0, dx = 0;
            bool flip = false;
            if (augmentation is { } a)
            {
                if (a.CropPadding > 0)
                {
                    dy = random!.Next(2 * a.CropPadding + 1) - a.CropPadding;
                    dx = random.Next(2 * a.CropPadding + 1) - a.CropPadding;
                }
                if (a.HorizontalFlip) flip = random!.Next(2) == 1;
            }
            var source = Pixels(index);
            var target = values.AsSpan(k * size, size);
            for (int c = 0; c < Channels; c++)
            for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                // Output pixel (y, x) shows padded-image pixel (y + dy, x' + dx), x' mirrored when flipped; outside: zero.
                int sy = y + dy, sx = (flip ? Width - 1 - x : x) + dx;
                byte p = sy >= 0 && sy < Height && sx >= 0 && sx < Width ? source[c * plane + sy * Width + sx] : (byte)0;
                target[c * plane + y * Width + x] = p * scale[c] + shift[c];
            }
        }
        return new Batch(tensor(values, new long[] { indices.Count, Channels, Height, Width }), tensor(targets));
    }
}
