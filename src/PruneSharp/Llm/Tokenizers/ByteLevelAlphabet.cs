using System.Text;

namespace PruneSharp.Llm.Tokenizers;

/// <summary>
/// GPT-2's byte-level alphabet: each byte is shown as a printable character, bytes that are printable Latin-1
/// characters (33–126, 161–172, 174–255) as themselves and the others as U+0100 onwards in byte order, so a space
/// is <c>Ġ</c> and a newline <c>Ċ</c>.
/// </summary>
static class ByteLevelAlphabet
{
    static readonly char[] ByteToChar = Build();
    static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    static char[] Build()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
            table[b] = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255 ? (char)b : (char)next++;
        return table;
    }

    /// <summary>The UTF-8 bytes of <paramref name="text"/>, each shown as its character.</summary>
    public static string Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>The bytes shown by <paramref name="token"/>, or null if it has a character outside the alphabet.</summary>
    public static byte[]? Decode(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
            if (!CharToByte.TryGetValue(token[i], out bytes[i])) return null;
        return bytes;
    }
}
