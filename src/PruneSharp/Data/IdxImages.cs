namespace PruneSharp.Data;

/// <summary>
/// MNIST-family data sets stored as IDX files with the standard names (<c>train-images-idx3-ubyte</c>,
/// <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>, each plain or
/// <c>.gz</c>; the dotted variant <c>train-images.idx3-ubyte</c> is accepted too).
/// </summary>
public static class IdxImages
{
    /// <summary>Fashion-MNIST's class names, by label.</summary>
    public static readonly IReadOnlyList<string> FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>MNIST's class names (the digits).</summary>
    public static readonly IReadOnlyList<string> DigitClasses = Enumerable.Range(0, 10).Select(d => d.ToString()).ToArray();

    /// <summary>Loads Fashion-MNIST from <paramref name="folder"/>, or else from <see cref="DataLocations.Find"/>.</summary>
    public static ImageDataset LoadFashionMnist(DataSplit split, string? folder = null) =>
        Load(folder ?? DataLocations.Find(DataLocations.FashionMnist, "train-labels-idx1-ubyte"), split, FashionMnistClasses);

    /// <summary>Loads MNIST from <paramref name="folder"/>, or else from <see cref="DataLocations.Find"/>.</summary>
    public static ImageDataset LoadMnist(DataSplit split, string? folder = null) =>
        Load(folder ?? DataLocations.Find(DataLocations.Mnist, "train-labels-idx1-ubyte"), split, DigitClasses);

    /// <summary>Loads the <paramref name="split"/> images and labels of an IDX data set in <paramref name="folder"/>.</summary>
    /// <param name="folder">Folder holding the four standard files.</param>
    /// <param name="split">Train (<c>train-*</c>) or test (<c>t10k-*</c>).</param>
    /// <param name="classes">Class names; labels must lie in <c>[0, classes.Count)</c>.</param>
    /// <exception cref="DataNotFoundException">The folder or a file is missing.</exception>
    /// <exception cref="DataFormatException">A file is malformed, image and label counts differ, or a label is out of range.</exception>
    public static ImageDataset Load(string folder, DataSplit split, IReadOnlyList<string> classes)
    {
        string prefix = split == DataSplit.Train ? "train" : "t10k";
        var images = IdxFile.Read(DataFiles.Find(folder, $"{prefix}-images-idx3-ubyte", $"{prefix}-images.idx3-ubyte"));
        var labels = IdxFile.Read(DataFiles.Find(folder, $"{prefix}-labels-idx1-ubyte", $"{prefix}-labels.idx1-ubyte"));
        if (images.Shape.Count != 3)
            throw new DataFormatException(images.Path, $"an image file must hold a rank-3 array (count x height x width), got rank {images.Shape.Count}");
        if (labels.Shape.Count != 1)
            throw new DataFormatException(labels.Path, $"a label file must hold a rank-1 array, got rank {labels.Shape.Count}");
        if (images.Shape[0] != labels.Shape[0])
            throw new DataFormatException(labels.Path, $"{labels.Shape[0]} labels for {images.Shape[0]} images in {Path.GetFileName(images.Path)}");
        var values = new long[labels.Data.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = labels.Data[i];
            if (values[i] >= classes.Count)
                throw new DataFormatException(labels.Path, $"label {values[i]} of example {i} is outside [0, {classes.Count})");
        }
        return new ImageDataset(images.Data, values, 1, images.Shape[1], images.Shape[2], classes);
    }
}
