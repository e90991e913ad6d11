namespace PruneSharp.Data;

/// <summary>
/// An array read from an IDX file (the MNIST format): magic <c>00 00 type rank</c>, then <c>rank</c> big-endian
/// 32-bit sizes, then the data. Only unsigned bytes (type <c>0x08</c>), the type of all MNIST-family files, are read.
/// </summary>
/// <param name="Path">The file it came from.</param>
/// <param name="Shape">Size of each dimension.</param>
/// <param name="Data">The elements, row-major.</param>
public sealed record IdxFile(string Path, IReadOnlyList<int> Shape, byte[] Data)
{
    const byte UnsignedByte = 0x08;

    /// <summary>Reads <paramref name="path"/> (plain or gzip).</summary>
    /// <exception cref="DataNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">Wrong magic number, unsupported element type, or truncated data.</exception>
    public static IdxFile Read(string path)
    {
        byte[] bytes = DataFiles.ReadAll(path);
        if (bytes.Length < 4)
            throw new DataFormatException(path, $"truncated IDX file: {bytes.Length} bytes, the header alone needs 4");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new DataFormatException(path, $"wrong magic number 0x{bytes[0]:X2}{bytes[1]:X2}{bytes[2]:X2}{bytes[3]:X2}: an IDX file starts with two zero bytes");
        if (bytes[2] != UnsignedByte)
            throw new DataFormatException(path, $"IDX element type 0x{bytes[2]:X2} is not supported (only 0x08, unsigned byte)");
        int rank = bytes[3];
        if (rank == 0) throw new DataFormatException(path, "IDX rank is 0");
        int header = 4 + 4 * rank;
        if (bytes.Length < header)
            throw new DataFormatException(path, $"truncated IDX file: {bytes.Length} bytes, the header of a rank-{rank} array needs {header}");
        var shape = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            int o = 4 + 4 * d;
            uint size = (uint)(bytes[o] << 24 | bytes[o + 1] << 16 | bytes[o + 2] << 8 | bytes[o + 3]);
            if (size > int.MaxValue) throw new DataFormatException(path, $"IDX dimension {d} has size {size}");
            shape[d] = (int)size;
            count *= size;
        }
        long available = bytes.Length - header;
        if (available < count)
            throw new DataFormatException(path, $"truncated IDX file: shape {string.Join("x", shape)} needs {count} data bytes, found {available}");
        if (available > count)
            throw new DataFormatException(path, $"IDX file has {available - count} bytes past the end of its {string.Join("x", shape)} array");
        return new IdxFile(path, shape, bytes.AsSpan(header).ToArray());
    }
}
