using System.Globalization;
using System.Text.RegularExpressions;
using PruneSharp.Metrics;
using PruneSharp.Reporting;
using PruneSharp.Runs;
using PruneSharp.Tests.Runs;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Reporting;

/// <summary>
/// The HTML report drawn from a store of runs made up for the test (two methods × three sparsities × three seeds,
/// a Lottery Ticket run, a failed run): every series and point is there, the spread is the seeds' range, the tables
/// hold the mean and standard deviation computed here independently, and the file needs nothing from outside.
/// </summary>
public sealed partial class RunReportTests : IDisposable
{
    readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>A store with the runs described above; returns its path and the accuracies by (method, sparsity).</summary>
    internal static (string Path, Dictionary<(string, double), List<double>> Accuracies) MakeStore(TempFolder folder)
    {
        string path = folder.File("runs.db");
        var accuracies = new Dictionary<(string, double), List<double>>();
        using var store = new SqliteRunStore(path);
        foreach (string method in new[] { "magnitude/global", "random/global" })
            foreach (double target in new[] { 0.5, 0.8, 0.95 })
                for (int seed = 0; seed < 3; seed++)
                {
                    long id = store.BeginRun(RunStoreTests.Start(method, seed, target) with { Model = "lenet-5.onnx" });
                    // Accuracy falls with sparsity, faster for random pruning; seeds differ by a little.
                    double accuracy = 0.9 - target * (method.StartsWith("random", StringComparison.Ordinal) ? 0.6 : 0.1) + 0.01 * seed;
                    accuracies.TryAdd((method, target), []);
                    accuracies[(method, target)].Add(accuracy);
                    var layers = new[] { new ParameterSparsity("conv1.weight", [6, 1, 5, 5], 150, (long)(150 * (1 - target))), new ParameterSparsity("fc1.weight", [120, 400], 48000, (long)(48000 * (1 - target))) };
                    store.FinishRun(id, RunStatus.Completed, new RunOutcome
                    {
                        Metrics = new Dictionary<string, double>
                        {
                            [MetricNames.Accuracy] = accuracy, [MetricNames.DenseAccuracy] = 0.9 + 0.01 * seed, [MetricNames.Sparsity] = target,
                            [MetricNames.Parameters] = 48150, [MetricNames.NonZeros] = layers.Sum(l => l.NonZeros),
                            [MetricNames.Macs] = 400_000, [MetricNames.EffectiveMacs] = 400_000 * (1 - target), [MetricNames.LatencyMs] = 1.5,
                        },
                        Layers = layers,
                    });
                }
        long lth = store.BeginRun(RunStoreTests.Start("lth/weights/global") with { Kind = "lth", TargetSparsity = null });
        for (int round = 0; round <= 4; round++)
            store.RecordStep(lth, round, new Dictionary<string, double>
            {
                [MetricNames.Density] = Math.Pow(0.8, round), [MetricNames.Accuracy] = 0.88 + 0.005 * round, ["accuracy.random"] = 0.88 - 0.02 * round,
            });
        store.FinishRun(lth, RunStatus.Completed, RunOutcome.Empty);
        long failed = store.BeginRun(RunStoreTests.Start("wanda"));
        store.FinishRun(failed, RunStatus.Failed, RunOutcome.Empty, "calibration <text> ran out of memory");
        return (path, accuracies);
    }

    [Fact]
    public void Report_shows_every_method_point_and_spread_with_statistics_computed_independently()
    {
        var (path, accuracies) = MakeStore(_folder);
        string report = _folder.File("report.html");
        using (var store = new SqliteRunStore(path)) RunReport.Write(store, report);
        string html = File.ReadAllText(report);

        // Quality chart: the dense baseline and both methods, three sparsities each, bars for the seeds' range.
        var quality = Section(html, "quality");
        Assert.Equal(["dense (before pruning)", "magnitude/global", "random/global"], SeriesLabels(quality));
        Assert.Equal(1 + 2 * 3, Regex.Matches(quality, "<circle ").Count);
        Assert.Equal(1 + 2 * 3, Regex.Matches(quality, "class=\"spread\"").Count);
        foreach (var ((method, target), values) in accuracies)
        {
            double mean = values.Average() * 100;
            double std = Math.Sqrt(values.Sum(v => Math.Pow(v * 100 - mean, 2)) / (values.Count - 1));
            string row = $"<tr><td>{method}</td><td>{(target * 100).ToString("0.##", CultureInfo.InvariantCulture)}%</td><td>{mean.ToString("0.###", CultureInfo.InvariantCulture)} ± {std.ToString("0.###", CultureInfo.InvariantCulture)}</td><td>3</td><td>3</td></tr>";
            Assert.Contains(row, quality);
        }
        // Higher accuracy is drawn higher: magnitude's points lie above random's at 95%.
        Assert.True(PointY(quality, "magnitude/global", 2) < PointY(quality, "random/global", 2));

        // Per-layer bars: one chart per (method, target), two bars each; the size table has every completed run.
        Assert.Equal(6, Regex.Matches(Section(html, "layers"), "<svg ").Count);
        Assert.Equal(12, Regex.Matches(Section(html, "layers"), "class=\"bar\"").Count);
        Assert.Equal(18 + 1, Regex.Matches(Section(html, "sizes"), "<tr><td>").Count);
        Assert.Contains("<td>5.00×</td>", Section(html, "sizes")); // 400,000 / (400,000 × 0.2) at 80%

        // Lottery Ticket: both variants, five rounds each; the failed run with its escaped error.
        Assert.Equal(["ticket", "random"], SeriesLabels(Section(html, "lottery-ticket")));
        Assert.Equal(10, Regex.Matches(Section(html, "lottery-ticket"), "<circle ").Count);
        Assert.Contains("calibration &lt;text&gt; ran out of memory", Section(html, "incomplete"));

        // Self-contained: no scripts, no links, no fetched sources.
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotMatch("(src|href)=", html);
        Assert.DoesNotContain(Regex.Matches(html, "https?://"), m => !html.AsSpan(m.Index).StartsWith("http://www.w3.org/2000/svg"));
    }

    [Fact]
    public void Empty_store_gives_a_report_that_says_so()
    {
        string html = RunReport.Render("runs.db", [], DateTimeOffset.UnixEpoch);
        Assert.Contains("The store holds no runs.", html);
        Assert.DoesNotContain("<svg", html);
    }

    /// <summary>The HTML of the section with id <paramref name="id"/>.</summary>
    internal static string Section(string html, string id)
    {
        int start = html.IndexOf($"<section id=\"{id}\">", StringComparison.Ordinal);
        Assert.True(start >= 0, $"section {id} missing");
        return html[start..(html.IndexOf("</section>", start, StringComparison.Ordinal) + 10)];
    }

    static List<string> SeriesLabels(string html) => SeriesGroup().Matches(html).Select(m => m.Groups[1].Value).ToList();

    /// <summary>The y pixel of the <paramref name="index"/>-th point (in x order) of series <paramref name="label"/>.</summary>
    static double PointY(string html, string label, int index)
    {
        int start = html.IndexOf($"data-label=\"{label}\"", StringComparison.Ordinal);
        string group = html[start..html.IndexOf("</g>", start, StringComparison.Ordinal)];
        return double.Parse(CircleY().Matches(group)[index].Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("<g class=\"series\" data-label=\"([^\"]*)\"")]
    private static partial Regex SeriesGroup();

    [GeneratedRegex("<circle cx=\"[^\"]*\" cy=\"([^\"]*)\"")]
    private static partial Regex CircleY();
}
