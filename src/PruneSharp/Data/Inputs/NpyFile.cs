using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using PruneSharp.Files;
using static TorchSharp.torch;

namespace PruneSharp.Data.Inputs;

/// <summary>
/// NumPy's <c>.npy</c> tensor files (format versions 1–3) and <c>.npz</c> archives of them: little-endian float32,
/// float64, int64, int32 and bool in C order. Anything else (big-endian, Fortran order, other types, object arrays) is
/// refused with a <see cref="DataFormatException"/> naming the file.
/// </summary>
public static partial class NpyFile
{
    static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    static readonly Dictionary<string, ScalarType> Types = new(StringComparer.Ordinal)
    {
        ["<f4"] = ScalarType.Float32, ["<f8"] = ScalarType.Float64, ["<i8"] = ScalarType.Int64, ["<i4"] = ScalarType.Int32, ["|b1"] = ScalarType.Bool,
    };

    /// <summary>Reads the tensor in the <c>.npy</c> file at <paramref name="path"/>.</summary>
    /// <exception cref="DataNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">It is not a .npy file, or holds a type or layout that is not supported.</exception>
    public static Tensor Read(string path)
    {
        if (!File.Exists(path)) throw new DataNotFoundException(path, "file does not exist");
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads every array of the <c>.npz</c> archive at <paramref name="path"/>, by name (the entry name without <c>.npy</c>).</summary>
    /// <exception cref="DataNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">It is not a zip archive of .npy files, or an array is not supported (the message names the entry).</exception>
    public static Dictionary<string, Tensor> ReadArchive(string path)
    {
        if (!File.Exists(path)) throw new DataNotFoundException(path, "file does not exist");
        var arrays = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal))
                    throw new DataFormatException(path, $"entry '{entry.FullName}' is not a .npy array");
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                buffer.Position = 0;
                arrays[entry.FullName[..^4]] = Read(buffer, $"{path}[{entry.FullName}]");
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"not a .npz (zip) archive: {e.Message}", e);
        }
        if (arrays.Count == 0) throw new DataFormatException(path, "the archive holds no arrays");
        return arrays;
    }

    /// <summary>Writes <paramref name="value"/> as a version-1 <c>.npy</c> file (atomically).</summary>
    /// <exception cref="ArgumentException">The tensor's type is not float32, float64, int64, int32 or bool.</exception>
    public static void Write(string path, Tensor value)
    {
        string descr = Types.FirstOrDefault(t => t.Value == value.dtype).Key
            ?? throw new ArgumentException($"{path}: .npy files are written for float32, float64, int64, int32 and bool, not {value.dtype}");
        string shape = value.dim() == 1 ? $"({value.shape[0]},)" : $"({string.Join(", ", value.shape)})";
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int padded = (Magic.Length + 4 + header.Length + 1 + 63) / 64 * 64;
        header = header.PadRight(padded - Magic.Length - 4 - 1) + "\n";
        using var contiguous = value.detach().cpu().contiguous();
        byte[] data = contiguous.bytes.ToArray();
        AtomicFile.Write(path, stream =>
        {
            stream.Write(Magic);
            stream.Write(new byte[] { 1, 0 });
            stream.Write(BitConverter.GetBytes((ushort)header.Length));
            stream.Write(Encoding.ASCII.GetBytes(header));
            stream.Write(data);
        });
    }

    static Tensor Read(Stream stream, string name)
    {
        using var reader = new BinaryReader(stream, Encoding.ASCII, leaveOpen: true);
        byte[] magic = reader.ReadBytes(Magic.Length + 2);
        if (magic.Length < Magic.Length + 2 || !magic.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new DataFormatException(name, "not a .npy file (no \\x93NUMPY magic)");
        int major = magic[Magic.Length];
        if (major is < 1 or > 3) throw new DataFormatException(name, $".npy format version {major} is not supported (1 to 3 are)");
        long headerLength = major == 1 ? reader.ReadUInt16() : reader.ReadUInt32();
        byte[] headerBytes = reader.ReadBytes((int)Math.Min(headerLength, 1 << 20));
        if (headerBytes.Length != headerLength) throw new DataFormatException(name, "the .npy header is truncated");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        string descr = Field(DescrPattern(), header, name, "descr");
        if (Field(FortranPattern(), header, name, "fortran_order") != "False")
            throw new DataFormatException(name, "the array is stored in Fortran order; save it in C order (numpy.ascontiguousarray)");
        if (!Types.TryGetValue(descr, out var type))
            throw new DataFormatException(name, $"element type '{descr}' is not supported (little-endian float32 '<f4', float64 '<f8', int64 '<i8', int32 '<i4' or bool '|b1')");
        long[] shape = Field(ShapePattern(), header, name, "shape").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : throw new DataFormatException(name, $"shape dimension '{d}' is not a number"))
            .ToArray();
        long count = shape.Aggregate(1L, (p, d) => checked(p * d));
        int size = type switch { ScalarType.Float32 or ScalarType.Int32 => 4, ScalarType.Bool => 1, _ => 8 };
        if (count * size > int.MaxValue) throw new DataFormatException(name, $"the array of shape ({string.Join(", ", shape)}) is too large to read (over 2 GiB)");
        byte[] data = reader.ReadBytes((int)(count * size));
        if (data.Length != count * size)
            throw new DataFormatException(name, $"the data is truncated: shape ({string.Join(", ", shape)}) needs {count * size} bytes, the file holds {data.Length}");
        return type switch
        {
            ScalarType.Float32 => tensor(MemoryMarshal.Cast<byte, float>(data).ToArray(), shape),
            ScalarType.Float64 => tensor(MemoryMarshal.Cast<byte, double>(data).ToArray(), shape),
            ScalarType.Int64 => tensor(MemoryMarshal.Cast<byte, long>(data).ToArray(), shape),
            ScalarType.Int32 => tensor(MemoryMarshal.Cast<byte, int>(data).ToArray(), shape),
            _ => tensor(data.Select(b => b != 0).ToArray(), shape),
        };
    }

    static string Field(Regex pattern, string header, string name, string field) =>
        pattern.Match(header) is { Success: true } m ? m.Groups[1].Value : throw new DataFormatException(name, $"the .npy header has no readable '{field}' ({header.Trim()})");

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
