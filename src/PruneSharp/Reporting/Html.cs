namespace PruneSharp.Reporting;

/// <summary>Escaping for text placed in HTML and SVG (the report is UTF-8, so only markup characters are replaced).</summary>
static class Html
{
    /// <summary><paramref name="text"/> with <c>&amp; &lt; &gt; "</c> and <c>'</c> as entities.</summary>
    public static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)
            .Replace("\"", "&quot;", StringComparison.Ordinal).Replace("'", "&#39;", StringComparison.Ordinal);
}
