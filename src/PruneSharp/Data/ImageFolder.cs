using SkiaSharp;

namespace PruneSharp.Data;

/// <summary>
/// A folder with one sub-folder per class (sorted by name: the first is label 0) holding PNG, JPEG, BMP, GIF or WebP
/// images, decoded with SkiaSharp and resized to a fixed size; or, for data without labels (calibration,
/// distillation), a folder of images without class sub-folders, whose images all get the single class <see cref="Unlabeled"/>.
/// </summary>
public static class ImageFolder
{
    /// <summary>The one class name of a folder of images without class sub-folders (no labels).</summary>
    public const string Unlabeled = "(unlabeled)";

    static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>
    /// Loads every image under <paramref name="folder"/> as <paramref name="preprocessing"/> says: the shorter side
    /// scaled to <see cref="Preprocessing.Resize"/> pixels (aspect kept; default: the crop size), then the centre
    /// <see cref="Preprocessing.Crop"/> × <see cref="Preprocessing.Crop"/> square kept (as torchvision's Resize and
    /// CenterCrop do); its normalisation is set on the data set.
    /// </summary>
    /// <exception cref="ArgumentException">No crop size is given, or the resize is smaller than the crop.</exception>
    /// <exception cref="DataNotFoundException">The folder does not exist.</exception>
    /// <exception cref="DataFormatException">Neither class sub-folders nor images, a class folder without images, or an image that cannot be decoded.</exception>
    public static ImageDataset Load(string folder, Preprocessing preprocessing, int channels = 3)
    {
        if (preprocessing.Crop is not int crop || crop <= 0)
            throw new ArgumentException("an image folder needs the model's input size: give the preprocessing a positive crop size");
        int resize = preprocessing.Resize ?? crop;
        if (resize < crop) throw new ArgumentException($"resize {resize} is smaller than the crop {crop}");
        var data = Load(folder, crop, crop, channels, resize);
        if (preprocessing.Fed is { } normalization) data.Normalization = normalization;
        return data;
    }

    /// <summary>Loads every image under <paramref name="folder"/>, resized to <paramref name="height"/> × <paramref name="width"/>.</summary>
    /// <param name="folder">The root: one sub-folder per class.</param>
    /// <param name="height">Output height in pixels.</param>
    /// <param name="width">Output width in pixels.</param>
    /// <param name="channels">3 for RGB, 1 for grey.</param>
    /// <exception cref="DataNotFoundException">The folder does not exist.</exception>
    /// <exception cref="DataFormatException">Neither class sub-folders nor images, a class folder without images, or an image that cannot be decoded.</exception>
    public static ImageDataset Load(string folder, int height, int width, int channels = 3) => Load(folder, height, width, channels, null);

    static ImageDataset Load(string folder, int height, int width, int channels, int? shorterSide)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), $"image size {height}x{width} must be positive");
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 (grey) or 3 (RGB)");
        if (!Directory.Exists(folder)) throw new DataNotFoundException(folder, "folder does not exist");
        var classFolders = Directory.GetDirectories(folder).Order(StringComparer.Ordinal).ToArray();
        var files = new List<(string Path, int Label)>();
        if (classFolders.Length == 0)
        {
            files.AddRange(Images(folder).Select(f => (f, 0)));
            if (files.Count == 0)
                throw new DataFormatException(folder, $"neither class sub-folders (one folder of images per class) nor images ({string.Join(", ", Extensions.Order())})");
            return Decode(files, height, width, channels, shorterSide, new[] { Unlabeled });
        }

        for (int label = 0; label < classFolders.Length; label++)
        {
            var images = Images(classFolders[label]);
            if (images.Length == 0)
                throw new DataFormatException(classFolders[label], $"class folder holds no images ({string.Join(", ", Extensions.Order())})");
            files.AddRange(images.Select(f => (f, label)));
        }
        return Decode(files, height, width, channels, shorterSide, classFolders.Select(Path.GetFileName).ToArray()!);
    }

    static string[] Images(string folder) =>
        Directory.GetFiles(folder).Where(f => Extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).ToArray();

    static ImageDataset Decode(List<(string Path, int Label)> files, int height, int width, int channels, int? shorterSide, IReadOnlyList<string> classes)
    {
        int size = channels * height * width;
        var pixels = new byte[(long)files.Count * size];
        var labels = new long[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            Decode(files[i].Path, height, width, channels, shorterSide, pixels.AsSpan(i * size, size));
            labels[i] = files[i].Label;
        }
        return new ImageDataset(pixels, labels, channels, height, width, classes);
    }

    /// <summary>
    /// Where an image of <paramref name="imageWidth"/> × <paramref name="imageHeight"/> is scaled to and where the
    /// centre crop of <paramref name="width"/> × <paramref name="height"/> starts, as torchvision's <c>Resize(side)</c>
    /// and <c>CenterCrop</c> compute them: the shorter side becomes <paramref name="shorterSide"/>, the longer
    /// <c>int(side · long / short)</c>; the crop starts at <c>round((scaled − crop) / 2)</c> (half to even, as Python
    /// rounds). Without <paramref name="shorterSide"/> the image is scaled to the crop size.
    /// </summary>
    internal static (int Width, int Height, int Left, int Top) Geometry(int imageWidth, int imageHeight, int width, int height, int? shorterSide)
    {
        if (shorterSide is not int side) return (width, height, 0, 0);
        int scaledWidth, scaledHeight;
        if (imageWidth <= imageHeight) (scaledWidth, scaledHeight) = (side, (int)((long)side * imageHeight / imageWidth));
        else (scaledWidth, scaledHeight) = ((int)((long)side * imageWidth / imageHeight), side);
        scaledWidth = Math.Max(width, scaledWidth);
        scaledHeight = Math.Max(height, scaledHeight);
        return (scaledWidth, scaledHeight, (int)Math.Round((scaledWidth - width) / 2.0, MidpointRounding.ToEven),
            (int)Math.Round((scaledHeight - height) / 2.0, MidpointRounding.ToEven));
    }

    /// <summary>
    /// Decodes one image file into <paramref name="destination"/> as planar (C × H × W) bytes: scaled to
    /// <paramref name="height"/> × <paramref name="width"/>, or with <paramref name="shorterSide"/> scaled so that its
    /// shorter side has that many pixels and the centre <paramref name="height"/> × <paramref name="width"/> kept.
    /// </summary>
    static void Decode(string path, int height, int width, int channels, int? shorterSide, Span<byte> destination)
    {
        using var decoded = SKBitmap.Decode(path) ?? throw new DataFormatException(path, "cannot decode image (corrupt or unsupported format)");
        var (scaledWidth, scaledHeight, left, top) = Geometry(decoded.Width, decoded.Height, width, height, shorterSide);
        var info = new SKImageInfo(scaledWidth, scaledHeight, channels == 1 ? SKColorType.Gray8 : SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var resized = new SKBitmap(info);
        if (!decoded.ScalePixels(resized, SKFilterQuality.High))
            throw new DataFormatException(path, $"cannot resize the {decoded.Width}x{decoded.Height} image to {scaledWidth}x{scaledHeight}");
        ReadOnlySpan<byte> source = resized.GetPixelSpan();
        int plane = height * width, stride = resized.RowBytes, step = channels == 1 ? 1 : 4;
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        for (int c = 0; c < channels; c++)
            destination[c * plane + y * width + x] = source[(y + top) * stride + (x + left) * step + c];
    }
}
