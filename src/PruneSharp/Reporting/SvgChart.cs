using System.Globalization;
using System.Net;
using System.Text;

namespace PruneSharp.Reporting;

/// <summary>One point of a <see cref="ChartSeries"/>: the mean <paramref name="Y"/> and the spread [<paramref name="Low"/>, <paramref name="High"/>] (equal to Y for a single value).</summary>
public readonly record struct ChartPoint(double X, double Y, double Low, double High)
{
    /// <summary>A point without spread.</summary>
    public static ChartPoint Single(double x, double y) => new(x, y, y, y);

    /// <summary>The mean of <paramref name="values"/> with their minimum and maximum as the spread.</summary>
    public static ChartPoint Spread(double x, IReadOnlyCollection<double> values) => new(x, values.Average(), values.Min(), values.Max());
}

/// <summary>A line of an <see cref="SvgChart"/>: points joined in x order, each with its spread drawn as an error bar.</summary>
/// <param name="Label">Legend text.</param>
/// <param name="Points">The points.</param>
public sealed record ChartSeries(string Label, IReadOnlyList<ChartPoint> Points);

/// <summary>
/// Charts as inline SVG for the HTML report: a line chart with error bars (seed spread) and a horizontal bar chart.
/// Text stays text (searchable, scalable), and nothing is fetched: the SVG sits in the page.
/// </summary>
public static class SvgChart
{
    static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>Options of a line chart.</summary>
    public sealed record LineOptions
    {
        /// <summary>Title above the chart.</summary>
        public required string Title { get; init; }

        /// <summary>Label of the x axis.</summary>
        public required string XLabel { get; init; }

        /// <summary>Label of the y axis.</summary>
        public required string YLabel { get; init; }

        /// <summary>Logarithmic x axis (all x must be positive).</summary>
        public bool LogX { get; init; }

        /// <summary>Larger x on the left.</summary>
        public bool ReverseX { get; init; }

        /// <summary>Formats tick labels of the x axis.</summary>
        public Func<double, string> FormatX { get; init; } = v => v.ToString("G3", CultureInfo.InvariantCulture);

        /// <summary>Formats tick labels of the y axis.</summary>
        public Func<double, string> FormatY { get; init; } = v => v.ToString("G4", CultureInfo.InvariantCulture);
    }

    /// <summary>A line chart of <paramref name="series"/> as an <c>&lt;svg&gt;</c> element.</summary>
    /// <exception cref="ArgumentException">No point, a non-finite value, or a non-positive x on a log axis.</exception>
    public static string Lines(LineOptions options, IReadOnlyList<ChartSeries> series, int width = 760, int height = 440)
    {
        var points = series.SelectMany(s => s.Points).ToList();
        if (points.Count == 0) throw new ArgumentException($"chart '{options.Title}' has no points");
        if (points.Any(p => !double.IsFinite(p.X) || !double.IsFinite(p.Y) || !double.IsFinite(p.Low) || !double.IsFinite(p.High)))
            throw new ArgumentException($"chart '{options.Title}' has a non-finite value");
        if (options.LogX && points.Any(p => p.X <= 0)) throw new ArgumentException($"chart '{options.Title}': a logarithmic x axis needs positive x values");
        double Tx(double x) => options.LogX ? Math.Log10(x) : x;
        double xMin = points.Min(p => Tx(p.X)), xMax = points.Max(p => Tx(p.X));
        if (xMax - xMin < 1e-12) { xMin -= 0.5; xMax += 0.5; }
        double yMin = points.Min(p => p.Low), yMax = points.Max(p => p.High);
        double pad = yMax - yMin > 1e-9 * Math.Max(1, Math.Abs(yMax)) ? (yMax - yMin) * 0.06 : Math.Max(Math.Abs(yMax) * 0.05, 1);
        (yMin, yMax) = (yMin - pad, yMax + pad);
        const double left = 80, top = 40, right = 230, bottom = 60;
        double plotWidth = width - left - right, plotHeight = height - top - bottom;
        double X(double x)
        {
            double f = (Tx(x) - xMin) / (xMax - xMin);
            return left + (options.ReverseX ? 1 - f : f) * plotWidth;
        }
        double Y(double y) => top + plotHeight - (y - yMin) / (yMax - yMin) * plotHeight;

        var svg = Open(width, height, options.Title);
        foreach (double y in AxisTicks.Linear(yMin, yMax))
        {
            svg.Append($"<line class=\"grid\" x1=\"{N(left)}\" y1=\"{N(Y(y))}\" x2=\"{N(left + plotWidth)}\" y2=\"{N(Y(y))}\"/>");
            Text(svg, options.FormatY(y), left - 6, Y(y) + 4, "end");
        }
        foreach (double x in options.LogX ? AxisTicks.Log(xMin, xMax) : AxisTicks.Linear(xMin, xMax))
        {
            svg.Append($"<line class=\"grid\" x1=\"{N(X(x))}\" y1=\"{N(top)}\" x2=\"{N(X(x))}\" y2=\"{N(top + plotHeight)}\"/>");
            Text(svg, options.FormatX(x), X(x), top + plotHeight + 18, "middle");
        }
        svg.Append($"<rect class=\"frame\" x=\"{N(left)}\" y=\"{N(top)}\" width=\"{N(plotWidth)}\" height=\"{N(plotHeight)}\"/>");
        Text(svg, options.Title, width / 2.0, 22, "middle", "title");
        Text(svg, options.XLabel, left + plotWidth / 2, height - 16, "middle");
        svg.Append($"<text class=\"label\" text-anchor=\"middle\" transform=\"translate(18 {N(top + plotHeight / 2)}) rotate(-90)\">{WebUtility.HtmlEncode(options.YLabel)}</text>");

        for (int i = 0; i < series.Count; i++)
        {
            string color = Colors[i % Colors.Length];
            var line = series[i].Points.OrderBy(p => p.X).ToList();
            svg.Append($"<g class=\"series\" data-label=\"{WebUtility.HtmlEncode(series[i].Label)}\" stroke=\"{color}\" fill=\"{color}\">");
            if (line.Count > 1)
                svg.Append($"<polyline fill=\"none\" stroke-width=\"2.2\" points=\"{string.Join(' ', line.Select(p => $"{N(X(p.X))},{N(Y(p.Y))}"))}\"/>");
            foreach (var p in line)
            {
                if (p.High > p.Low)
                    svg.Append($"<line class=\"spread\" stroke-width=\"1.5\" x1=\"{N(X(p.X))}\" y1=\"{N(Y(p.Low))}\" x2=\"{N(X(p.X))}\" y2=\"{N(Y(p.High))}\"/>");
                svg.Append($"<circle cx=\"{N(X(p.X))}\" cy=\"{N(Y(p.Y))}\" r=\"3.5\"><title>{WebUtility.HtmlEncode($"{series[i].Label}: x={options.FormatX(p.X)}, y={options.FormatY(p.Y)}" + (p.High > p.Low ? $" [{options.FormatY(p.Low)}, {options.FormatY(p.High)}]" : ""))}</title></circle>");
            }
            svg.Append("</g>");
            double legendY = top + 12 + 20 * i;
            svg.Append($"<line x1=\"{N(width - right + 12)}\" y1=\"{N(legendY - 4)}\" x2=\"{N(width - right + 36)}\" y2=\"{N(legendY - 4)}\" stroke=\"{color}\" stroke-width=\"2.5\"/>");
            Text(svg, Shorten(series[i].Label, 30), width - right + 42, legendY, "start");
        }
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A horizontal bar chart of fractions in [0, 1] (drawn as percentages), one bar per label.</summary>
    /// <exception cref="ArgumentException">No bar, or a value outside [0, 1].</exception>
    public static string FractionBars(string title, IReadOnlyList<(string Label, double Value)> bars, int width = 760)
    {
        if (bars.Count == 0) throw new ArgumentException($"chart '{title}' has no bars");
        if (bars.Any(b => !(b.Value >= 0 && b.Value <= 1))) throw new ArgumentException($"chart '{title}': a value is not a fraction in [0, 1]");
        const double top = 36, rowHeight = 18, right = 60;
        double left = Math.Min(320, 12 + 6.6 * bars.Max(b => Math.Min(b.Label.Length, 46)));
        double plotWidth = width - left - right;
        int height = (int)(top + rowHeight * bars.Count + 30);
        var svg = Open(width, height, title);
        Text(svg, title, width / 2.0, 22, "middle", "title");
        foreach (double tick in new[] { 0, 0.25, 0.5, 0.75, 1 })
        {
            double x = left + tick * plotWidth;
            svg.Append($"<line class=\"grid\" x1=\"{N(x)}\" y1=\"{N(top)}\" x2=\"{N(x)}\" y2=\"{N(top + rowHeight * bars.Count)}\"/>");
            Text(svg, (tick * 100).ToString("0", CultureInfo.InvariantCulture) + "%", x, top + rowHeight * bars.Count + 16, "middle");
        }
        for (int i = 0; i < bars.Count; i++)
        {
            double y = top + rowHeight * i;
            var (label, value) = bars[i];
            Text(svg, Shorten(label, 46), left - 6, y + 13, "end");
            svg.Append($"<rect class=\"bar\" x=\"{N(left)}\" y=\"{N(y + 3)}\" width=\"{N(value * plotWidth)}\" height=\"{N(rowHeight - 6)}\" fill=\"{Colors[0]}\"><title>{WebUtility.HtmlEncode(label + ": " + (value * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%")}</title></rect>");
            Text(svg, (value * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%", left + value * plotWidth + 4, y + 13, "start");
        }
        return svg.Append("</svg>").ToString();
    }

    static StringBuilder Open(int width, int height, string title) => new StringBuilder()
        .Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-label=\"{WebUtility.HtmlEncode(title)}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">");

    static void Text(StringBuilder svg, string text, double x, double y, string anchor, string css = "label") =>
        svg.Append($"<text class=\"{css}\" x=\"{N(x)}\" y=\"{N(y)}\" text-anchor=\"{anchor}\">{WebUtility.HtmlEncode(text)}</text>");

    static string Shorten(string text, int max) => text.Length <= max ? text : "…" + text[^(max - 1)..];

    static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
