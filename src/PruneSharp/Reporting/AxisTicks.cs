namespace PruneSharp.Reporting;

/// <summary>Round tick values for chart axes, shared by the PNG <see cref="LinePlot"/> and the HTML report's <see cref="SvgChart"/>.</summary>
static class AxisTicks
{
    /// <summary>About five round tick values (1, 2 or 5 × 10^k apart) within [min, max].</summary>
    public static IEnumerable<double> Linear(double min, double max)
    {
        double raw = (max - min) / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        for (double v = Math.Ceiling(min / step) * step; v <= max + step * 1e-9; v += step) yield return Math.Round(v / step) * step;
    }

    /// <summary>Ticks at 1, 2 and 5 × 10^k between 10^min and 10^max (log10 units in, data units out).</summary>
    public static IEnumerable<double> Log(double min, double max)
    {
        for (int k = (int)Math.Floor(min); k <= (int)Math.Ceiling(max); k++)
            foreach (double m in new[] { 1.0, 2, 5 })
            {
                double v = m * Math.Pow(10, k);
                if (Math.Log10(v) >= min - 1e-9 && Math.Log10(v) <= max + 1e-9) yield return v;
            }
    }
}
