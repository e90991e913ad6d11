namespace PruneSharp.Compression;

/// <summary>
/// CRC-32 as in zlib, PNG and Ethernet (IEEE 802.3: reflected polynomial <c>0xEDB88320</c>, initial value and final
/// XOR <c>0xFFFFFFFF</c>); the check value of the ASCII bytes "123456789" is <c>0xCBF43926</c>. Guards every part of a
/// <c>.psz</c> file.
/// </summary>
static class Crc32
{
    static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32 of <paramref name="bytes"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in bytes) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
