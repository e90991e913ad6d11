namespace PruneSharp.Compression;

/// <summary>Appends bit strings most significant bit first, packing them into bytes (the last byte padded with zeros).</summary>
sealed class BitWriter
{
    readonly List<byte> _bytes = new();
    int _used; // bits used in the last byte (0 = no partial byte)

    /// <summary>Bits written so far.</summary>
    public long BitCount { get; private set; }

    /// <summary>Appends the low <paramref name="length"/> bits of <paramref name="bits"/>, most significant first.</summary>
    public void Write(uint bits, int length)
    {
        for (int k = length - 1; k >= 0; k--)
        {
            if (_used == 0) _bytes.Add(0);
            if (((bits >> k) & 1) != 0) _bytes[^1] |= (byte)(0x80 >> _used);
            _used = (_used + 1) & 7;
        }
        BitCount += length;
    }

    /// <summary>The packed bytes.</summary>
    public byte[] ToArray() => _bytes.ToArray();
}

/// <summary>Reads bits most significant first from bytes that <see cref="BitWriter"/> packed.</summary>
ref struct BitReader(ReadOnlySpan<byte> bytes, long bitCount)
{
    readonly ReadOnlySpan<byte> _bytes = bytes;
    long _position;

    /// <summary>Bits not read yet.</summary>
    public readonly long Remaining => bitCount - _position;

    /// <summary>The next bit; the caller checks <see cref="Remaining"/> first.</summary>
    public int ReadBit()
    {
        int bit = (_bytes[(int)(_position >> 3)] >> (7 - (int)(_position & 7))) & 1;
        _position++;
        return bit;
    }
}
