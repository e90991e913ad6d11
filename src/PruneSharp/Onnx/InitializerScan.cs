namespace PruneSharp.Onnx;

/// <summary>
/// Finds where each initializer's <c>raw_data</c> lies in a serialized ModelProto (graph = field 7, initializer =
/// field 5, raw_data = field 9), following protobuf's merge rules: every graph field contributes its initializers in
/// order, and within one tensor the last raw_data wins. Reads lengths and tags only; copies nothing.
/// </summary>
static class InitializerScan
{
    const int LengthDelimited = 2;

    /// <summary>One range per initializer, in order; null where an initializer has no raw_data.</summary>
    /// <exception cref="FormatException">The bytes are not well-formed protobuf.</exception>
    public static List<Range?> RawDataRanges(ReadOnlySpan<byte> model)
    {
        var ranges = new List<Range?>();
        foreach (var graph in Fields(model, 0, 7))
            foreach (var tensor in Fields(model[graph], graph.Start.Value, 5))
            {
                Range? raw = null;
                foreach (var data in Fields(model[tensor], tensor.Start.Value, 9)) raw = data;
                ranges.Add(raw);
            }
        return ranges;
    }

    /// <summary>The payload ranges (relative to the whole input) of every length-delimited field <paramref name="number"/>.</summary>
    static List<Range> Fields(ReadOnlySpan<byte> message, int origin, int number)
    {
        var found = new List<Range>();
        int pos = 0;
        while (pos < message.Length)
        {
            ulong tag = ReadVarint(message, ref pos);
            int wire = (int)(tag & 7);
            ulong field = tag >> 3;
            switch (wire)
            {
                case 0: ReadVarint(message, ref pos); break;
                case 1: Advance(message, ref pos, 8); break;
                case 5: Advance(message, ref pos, 4); break;
                case LengthDelimited:
                    ulong length = ReadVarint(message, ref pos);
                    if (length > (ulong)(message.Length - pos)) throw new FormatException("a length-delimited field runs past the end of its message");
                    if (field == (ulong)number) found.Add(new Range(origin + pos, origin + pos + (int)length));
                    pos += (int)length;
                    break;
                default: throw new FormatException($"wire type {wire} is not used by ONNX files");
            }
        }
        return found;
    }

    static void Advance(ReadOnlySpan<byte> message, ref int pos, int count)
    {
        if (count > message.Length - pos) throw new FormatException("a fixed-size field runs past the end of its message");
        pos += count;
    }

    static ulong ReadVarint(ReadOnlySpan<byte> message, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= message.Length) throw new FormatException("a varint runs past the end of its message");
            byte b = message[pos++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw new FormatException("a varint is longer than 10 bytes");
    }
}
