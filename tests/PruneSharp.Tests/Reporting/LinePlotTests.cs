using PruneSharp.Reporting;
using PruneSharp.Tests.Support;
using SkiaSharp;

namespace PruneSharp.Tests.Reporting;

public class LinePlotTests
{
    static LinePlot Plot(params PlotSeries[] series) => new()
    {
        Title = "accuracy vs density", XLabel = "density (%)", YLabel = "top-1 (%)", LogX = true, ReverseX = true, Series = series,
    };

    [RequiresPathFact("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "fonts-dejavu-core")]
    public void Writes_a_png_with_each_series_drawn_in_its_own_colour()
    {
        using var folder = new TempFolder();
        string path = folder.File("plot.png");
        Plot(new PlotSeries("ticket", [(100, 88.0), (51.2, 88.6), (10.7, 89.1), (3.5, 87.9)]),
             new PlotSeries("random", [(100, 88.0), (51.2, 87.2), (10.7, 84.0), (3.5, 79.5)])).Save(path, 640, 400);

        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal((640, 400), (bitmap.Width, bitmap.Height));
        var colours = bitmap.Pixels.ToHashSet();
        Assert.Contains(new SKColor(0x1f, 0x77, 0xb4), colours); // first series
        Assert.Contains(new SKColor(0xd6, 0x27, 0x28), colours); // second series
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
    }

    [Fact]
    public void Refuses_plots_it_cannot_draw_and_leaves_no_file()
    {
        using var folder = new TempFolder();
        string path = folder.File("plot.png");
        Assert.Throws<InvalidOperationException>(() => Plot(new PlotSeries("empty", [])).Save(path));
        var error = Assert.Throws<ArgumentException>(() => Plot(new PlotSeries("zero", [(0, 1.0), (1, 2.0)])).Save(path));
        Assert.Contains("logarithmic", error.Message);
        Assert.Throws<ArgumentException>(() => Plot(new PlotSeries("nan", [(1, double.NaN)])).Save(path));
        Assert.False(File.Exists(path));
    }
}
