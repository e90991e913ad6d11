using System.Globalization;
using PruneSharp.Files;
using SkiaSharp;

namespace PruneSharp.Reporting;

/// <summary>One line of a <see cref="LinePlot"/>: points joined in the order given.</summary>
/// <param name="Label">Legend text.</param>
/// <param name="Points">(x, y) pairs.</param>
public sealed record PlotSeries(string Label, IReadOnlyList<(double X, double Y)> Points);

/// <summary>
/// A line chart written as PNG: axes with ticks and grid, one coloured line with markers per series, and a legend.
/// The x axis may be logarithmic and reversed, as in density-vs-accuracy plots of pruning papers (dense on the left).
/// </summary>
public sealed class LinePlot
{
    static readonly SKColor[] Colors =
    [
        new(0x1f, 0x77, 0xb4), new(0xd6, 0x27, 0x28), new(0x2c, 0xa0, 0x2c), new(0xff, 0x7f, 0x0e), new(0x94, 0x67, 0xbd), new(0x8c, 0x56, 0x4b),
    ];

    /// <summary>Fonts looked for, in order (Debian's fonts-dejavu-core and fonts-liberation).</summary>
    static readonly string[] FontFiles =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    ];

    /// <summary>Title above the chart.</summary>
    public required string Title { get; init; }

    /// <summary>Label of the x axis.</summary>
    public required string XLabel { get; init; }

    /// <summary>Label of the y axis.</summary>
    public required string YLabel { get; init; }

    /// <summary>The lines.</summary>
    public required IReadOnlyList<PlotSeries> Series { get; init; }

    /// <summary>Logarithmic x axis (all x must be positive).</summary>
    public bool LogX { get; init; }

    /// <summary>Larger x on the left.</summary>
    public bool ReverseX { get; init; }

    /// <summary>Formats tick labels of the x axis.</summary>
    public Func<double, string> FormatX { get; init; } = v => v.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>Formats tick labels of the y axis.</summary>
    public Func<double, string> FormatY { get; init; } = v => v.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>True if a font for the labels is installed (see <see cref="Save"/>).</summary>
    public static bool CanRender => FontFiles.Any(File.Exists);

    /// <summary>Renders the chart and writes it to <paramref name="path"/> as PNG (atomically).</summary>
    /// <exception cref="InvalidOperationException">No series has a point, or no font is installed (install fonts-dejavu-core).</exception>
    /// <exception cref="ArgumentException">A log axis has a non-positive x, or a value is not finite.</exception>
    public void Save(string path, int width = 900, int height = 560)
    {
        var points = Series.SelectMany(s => s.Points).ToList();
        if (points.Count == 0) throw new InvalidOperationException($"plot '{Title}' has no points");
        if (points.Any(p => !double.IsFinite(p.X) || !double.IsFinite(p.Y))) throw new ArgumentException($"plot '{Title}' has a non-finite value");
        if (LogX && points.Any(p => p.X <= 0)) throw new ArgumentException($"plot '{Title}': a logarithmic x axis needs positive x values");
        string font = FontFiles.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"no font for the plot's labels (looked for {string.Join(", ", FontFiles)}); install fonts-dejavu-core");

        using var typeface = SKTypeface.FromFile(font);
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        Draw(surface.Canvas, typeface, points, width, height);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, stream => png.SaveTo(stream));
    }

    void Draw(SKCanvas canvas, SKTypeface typeface, List<(double X, double Y)> points, int width, int height)
    {
        canvas.Clear(SKColors.White);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true, Typeface = typeface, TextSize = 14 };
        using var title = new SKPaint { Color = SKColors.Black, IsAntialias = true, Typeface = typeface, TextSize = 18 };
        using var grid = new SKPaint { Color = new SKColor(0xdd, 0xdd, 0xdd), StrokeWidth = 1 };
        var area = new SKRect(80, 50, width - 30, height - 70);

        // Axis ranges: y padded by 5 % of its span; x in (log) data units.
        double Tx(double x) => LogX ? Math.Log10(x) : x;
        double xMin = points.Min(p => Tx(p.X)), xMax = points.Max(p => Tx(p.X));
        double yMin = points.Min(p => p.Y), yMax = points.Max(p => p.Y);
        if (xMax - xMin < 1e-12) { xMin -= 0.5; xMax += 0.5; }
        double pad = Math.Max(yMax - yMin, 1e-9) * 0.05;
        (yMin, yMax) = (yMin - pad, yMax + pad);
        float X(double x)
        {
            double f = (Tx(x) - xMin) / (xMax - xMin);
            return area.Left + (float)((ReverseX ? 1 - f : f) * area.Width);
        }
        float Y(double y) => area.Bottom - (float)((y - yMin) / (yMax - yMin) * area.Height);

        foreach (double y in AxisTicks.Linear(yMin, yMax))
        {
            canvas.DrawLine(area.Left, Y(y), area.Right, Y(y), grid);
            Label(canvas, FormatY(y), area.Left - 8, Y(y) + 5, SKTextAlign.Right, text);
        }
        var xTicks = LogX ? AxisTicks.Log(xMin, xMax) : AxisTicks.Linear(xMin, xMax);
        foreach (double x in xTicks)
        {
            canvas.DrawLine(X(x), area.Top, X(x), area.Bottom, grid);
            Label(canvas, FormatX(x), X(x), area.Bottom + 20, SKTextAlign.Center, text);
        }
        using (var frame = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = 1 })
            canvas.DrawRect(area, frame);
        Label(canvas, Title, width / 2f, 30, SKTextAlign.Center, title);
        Label(canvas, XLabel, area.MidX, height - 25, SKTextAlign.Center, text);
        canvas.Save();
        canvas.RotateDegrees(-90);
        Label(canvas, YLabel, -area.MidY, 25, SKTextAlign.Center, text);
        canvas.Restore();

        for (int i = 0; i < Series.Count; i++)
        {
            using var line = new SKPaint { Color = Colors[i % Colors.Length], StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
            using var dot = new SKPaint { Color = Colors[i % Colors.Length], IsAntialias = true };
            var series = Series[i].Points;
            for (int k = 1; k < series.Count; k++)
                canvas.DrawLine(X(series[k - 1].X), Y(series[k - 1].Y), X(series[k].X), Y(series[k].Y), line);
            foreach (var p in series) canvas.DrawCircle(X(p.X), Y(p.Y), 4, dot);
        }

        // Legend on a light box in the corner that covers the fewest points (sampled along the lines).
        float boxWidth = 200, boxHeight = 12 + 22 * Series.Count;
        var corners = new[]
        {
            new SKPoint(area.Right - boxWidth - 4, area.Top + 4), new SKPoint(area.Left + 4, area.Bottom - boxHeight - 4),
            new SKPoint(area.Right - boxWidth - 4, area.Bottom - boxHeight - 4), new SKPoint(area.Left + 4, area.Top + 4),
        };
        var samples = Series.SelectMany(series => series.Points.Zip(series.Points.Skip(1))
            .SelectMany(pair => Enumerable.Range(0, 10).Select(t => new SKPoint(
                X(pair.First.X) + (X(pair.Second.X) - X(pair.First.X)) * t / 10f, Y(pair.First.Y) + (Y(pair.Second.Y) - Y(pair.First.Y)) * t / 10f)))
            .Concat(series.Points.Select(p => new SKPoint(X(p.X), Y(p.Y))))).ToList();
        var corner = corners.OrderBy(c => samples.Count(p => new SKRect(c.X, c.Y, c.X + boxWidth, c.Y + boxHeight).Contains(p))).First();
        using (var box = new SKPaint { Color = SKColors.White.WithAlpha(235) })
            canvas.DrawRect(new SKRect(corner.X, corner.Y, corner.X + boxWidth, corner.Y + boxHeight), box);
        for (int i = 0; i < Series.Count; i++)
        {
            using var line = new SKPaint { Color = Colors[i % Colors.Length], StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
            float legendY = corner.Y + 22 + 22 * i;
            canvas.DrawLine(corner.X + 10, legendY - 5, corner.X + 40, legendY - 5, line);
            Label(canvas, Series[i].Label, corner.X + 50, legendY, SKTextAlign.Left, text);
        }
    }

    static void Label(SKCanvas canvas, string value, float x, float y, SKTextAlign align, SKPaint paint)
    {
        paint.TextAlign = align;
        canvas.DrawText(value, x, y, paint);
    }
}
