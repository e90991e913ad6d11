using System.Text.RegularExpressions;

namespace PruneSharp.Graph;

/// <summary>
/// A parameter-name pattern: <c>*</c> matches any run of characters (dots included), <c>?</c> one character, and the
/// pattern must match the whole name (<c>conv1.weight</c>, <c>classifier.*</c>).
/// </summary>
public static class NamePattern
{
    /// <summary>True if <paramref name="name"/> matches one of <paramref name="patterns"/>.</summary>
    public static bool MatchesAny(IEnumerable<string> patterns, string name) => patterns.Any(p => Glob(p).IsMatch(name));

    static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant);
}
