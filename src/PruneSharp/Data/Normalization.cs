namespace PruneSharp.Data;

/// <summary>Per-channel normalisation <c>x' = (x / 255 - mean[c]) / std[c]</c> applied to 8-bit pixels.</summary>
/// <param name="Mean">Mean of each channel, on the 0..1 scale.</param>
/// <param name="Std">Standard deviation of each channel, on the 0..1 scale (positive).</param>
public sealed record Normalization(IReadOnlyList<float> Mean, IReadOnlyList<float> Std)
{
    /// <summary>Only rescales pixels to 0..1.</summary>
    public static Normalization None(int channels) =>
        new(Enumerable.Repeat(0f, channels).ToArray(), Enumerable.Repeat(1f, channels).ToArray());

    /// <summary>Checks that there is one positive std per channel.</summary>
    public void Validate(int channels)
    {
        if (Mean.Count != channels || Std.Count != channels)
            throw new ArgumentException($"normalisation has {Mean.Count} mean(s) and {Std.Count} std(s) but the images have {channels} channel(s)");
        if (Std.Any(s => !(s > 0)))
            throw new ArgumentException($"normalisation std must be positive, got [{string.Join(", ", Std)}]");
    }
}

/// <summary>Random training augmentation of images, driven by a seeded <see cref="DataRandom"/>.</summary>
/// <param name="CropPadding">Pad each side with this many zero pixels and take a random crop of the original size (0: off).</param>
/// <param name="HorizontalFlip">Mirror left–right with probability 1/2.</param>
public sealed record Augmentation(int CropPadding = 0, bool HorizontalFlip = false)
{
    /// <summary>The usual CIFAR augmentation: 4-pixel padded random crop and horizontal flip.</summary>
    public static Augmentation Cifar => new(4, true);

    /// <summary>Reads <c>none</c> (null) or a comma list of <c>crop:PAD</c> and <c>flip</c>; errors name <paramref name="field"/>.</summary>
    public static Augmentation? Parse(string value, string field = "--augment")
    {
        if (value.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return null;
        int padding = 0;
        bool flip = false;
        foreach (string part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.Equals("flip", StringComparison.OrdinalIgnoreCase)) flip = true;
            else if (part.StartsWith("crop:", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(part.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pad) && pad > 0)
                padding = pad;
            else throw new ArgumentException($"{field}: '{part}' is not crop:PAD (PAD a positive number of pixels) or flip");
        }
        return new Augmentation(padding, flip);
    }
}
