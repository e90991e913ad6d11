namespace PruneSharp.Sparse;

/// <summary>
/// The shape of a 2-D convolution (one group) at one input size: input channels and size, filters, kernel, strides,
/// dilations and the padding on each side (ONNX's begin/end pads, possibly asymmetric).
/// </summary>
public sealed record ConvGeometry(int Channels, int Height, int Width, int Filters, int KernelHeight, int KernelWidth,
    int StrideHeight = 1, int StrideWidth = 1, int DilationHeight = 1, int DilationWidth = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0)
{
    /// <summary>Input height with the padding.</summary>
    public int PaddedHeight => Height + PadTop + PadBottom;

    /// <summary>Input width with the padding.</summary>
    public int PaddedWidth => Width + PadLeft + PadRight;

    /// <summary>Output height.</summary>
    public int OutputHeight => (PaddedHeight - DilationHeight * (KernelHeight - 1) - 1) / StrideHeight + 1;

    /// <summary>Output width.</summary>
    public int OutputWidth => (PaddedWidth - DilationWidth * (KernelWidth - 1) - 1) / StrideWidth + 1;

    /// <summary>True if any side is padded (the input is then copied into a zero-bordered buffer first).</summary>
    public bool Padded => PadTop + PadLeft + PadBottom + PadRight > 0;

    /// <summary>Checks that every size is positive and the output is not empty.</summary>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public void Validate()
    {
        if (Channels < 1 || Height < 1 || Width < 1 || Filters < 1 || KernelHeight < 1 || KernelWidth < 1)
            throw new ArgumentException($"convolution sizes must be positive: {this}");
        if (StrideHeight < 1 || StrideWidth < 1 || DilationHeight < 1 || DilationWidth < 1)
            throw new ArgumentException($"strides and dilations must be positive: {this}");
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0) throw new ArgumentException($"pads must not be negative: {this}");
        if (PaddedHeight < DilationHeight * (KernelHeight - 1) + 1 || PaddedWidth < DilationWidth * (KernelWidth - 1) + 1)
            throw new ArgumentException($"the kernel is larger than the padded input: {this}");
    }
}
