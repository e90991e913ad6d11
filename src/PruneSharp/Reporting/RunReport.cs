using System.Globalization;
using System.Net;
using System.Text;
using PruneSharp.Files;
using PruneSharp.Runs;

namespace PruneSharp.Reporting;

/// <summary>
/// The HTML report of a run store: one self-contained file (styles and SVG charts inline, no scripts, nothing
/// fetched). Sections: quality (accuracy, perplexity, fidelity) against sparsity per method for each model and data
/// set, with the spread over seeds as error bars and a table of mean ± standard deviation; per-layer sparsity bars;
/// parameters, MACs and latency of every completed run; the Lottery Ticket density curves; runs that did not complete.
/// </summary>
public static class RunReport
{
    /// <summary>Quality metrics drawn against sparsity: name, axis label, whether it is a fraction shown in percent.</summary>
    static readonly (string Name, string Label, bool Percent)[] Qualities =
    [
        (MetricNames.Accuracy, "top-1 accuracy (%)", true),
        (MetricNames.Perplexity, "perplexity", false),
        (MetricNames.Fidelity, "fidelity", false),
    ];

    /// <summary>At most this many per-layer charts and Lottery Ticket charts (the newest runs).</summary>
    const int MaxCharts = 12;

    /// <summary>Reads the runs <paramref name="filter"/> matches from <paramref name="store"/> and writes the report to <paramref name="path"/> (atomically).</summary>
    public static void Write(IRunStore store, string path, RunFilter? filter = null)
    {
        var runs = store.ListRuns(filter).Select(r => store.GetRun(r.Id)).ToList();
        string html = Render(store.Location, runs, DateTimeOffset.UtcNow);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            writer.Write(html);
        });
    }

    /// <summary>The report of <paramref name="runs"/> (from <paramref name="source"/>) as an HTML document.</summary>
    public static string Render(string source, IReadOnlyList<RunRecord> runs, DateTimeOffset generated)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>PruneSharp runs</title><style>").Append(Style).Append("</style></head><body>");
        html.Append("<h1>PruneSharp runs</h1>");
        var byStatus = runs.GroupBy(r => r.Summary.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToText()}");
        html.Append($"<p class=\"meta\">{E(source)}: {runs.Count} runs ({E(string.Join(", ", byStatus))}); generated {E(generated.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))}.</p>");
        var completed = runs.Where(r => r.Summary.Status == RunStatus.Completed).ToList();
        if (runs.Count == 0) html.Append("<p>The store holds no runs.</p>");
        QualitySection(html, completed);
        LayerSection(html, completed);
        SizeSection(html, completed);
        LotteryTicketSection(html, runs);
        IncompleteSection(html, runs.Where(r => r.Summary.Status != RunStatus.Completed).ToList());
        return html.Append("</body></html>").ToString();
    }

    static void QualitySection(StringBuilder html, IReadOnlyList<RunRecord> runs)
    {
        // Runs that aimed at a sparsity (dense training does not; Lottery Ticket runs have their own section).
        var measured = runs.Where(r => r.Summary.Kind != "lth" && (r.Summary.TargetSparsity is not null || SparsityOf(r) > 0)
            && Qualities.Any(q => r.Summary.Metrics.ContainsKey(q.Name))).ToList();
        if (measured.Count == 0) return;
        html.Append("<section id=\"quality\"><h2>Quality against sparsity</h2><p>One line per method; points are the mean over seeds, bars the range (min to max). " +
            "x is the target sparsity where the run had one, else the measured one; the dense model's quality, measured by the same runs before pruning, sits at 0.</p>");
        foreach (var setting in measured.GroupBy(r => (Model: r.Summary.Model ?? "?", Dataset: r.Summary.Dataset ?? "?")).OrderBy(g => g.Key.Model).ThenBy(g => g.Key.Dataset))
        {
            foreach (var (name, label, percent) in Qualities)
            {
                var withMetric = setting.Where(r => r.Summary.Metrics.TryGetValue(name, out double v) && double.IsFinite(v)).ToList();
                if (withMetric.Count == 0) continue;
                double scale = percent ? 100 : 1;
                var groups = withMetric.GroupBy(r => r.Summary.Method ?? r.Summary.Kind).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => (Method: g.Key, Points: g.GroupBy(r => Math.Round(SparsityOf(r)!.Value, 4)).OrderBy(p => p.Key)
                        .Select(p => (Sparsity: p.Key, Values: p.Select(r => r.Summary.Metrics[name] * scale).ToList(), Seeds: p.Select(r => r.Summary.Seed).Distinct().Count())).ToList()))
                    .ToList();
                string dense = name == MetricNames.Accuracy ? MetricNames.DenseAccuracy : name == MetricNames.Perplexity ? MetricNames.DensePerplexity : "";
                var denseValues = withMetric.Where(r => r.Summary.Metrics.TryGetValue(dense, out double v) && double.IsFinite(v))
                    .GroupBy(r => r.Summary.Seed).Select(g => g.First().Summary.Metrics[dense] * scale).ToList();
                if (denseValues.Count > 0) groups.Insert(0, ("dense (before pruning)", [(0, denseValues, denseValues.Count)]));
                string title = $"{name} vs sparsity: {Path.GetFileName(setting.Key.Model)} on {Path.GetFileName(setting.Key.Dataset)}";
                html.Append("<figure>").Append(SvgChart.Lines(new SvgChart.LineOptions
                {
                    Title = title, XLabel = "sparsity (%)", YLabel = label,
                    FormatX = v => v.ToString("0.#", CultureInfo.InvariantCulture),
                }, groups.Select(g => new ChartSeries(g.Method, g.Points.Select(p => ChartPoint.Spread(100 * p.Sparsity, p.Values)).ToList())).ToList())).Append("</figure>");
                html.Append($"<table class=\"quality\"><caption>{E(title)}: mean ± standard deviation over runs (n)</caption><thead><tr><th>method</th><th>sparsity</th><th>{E(label)}</th><th>n</th><th>seeds</th></tr></thead><tbody>");
                foreach (var (method, points) in groups)
                    foreach (var p in points)
                        html.Append($"<tr><td>{E(method)}</td><td>{Pct(p.Sparsity)}</td><td>{E(MeanStd(p.Values))}</td><td>{p.Values.Count}</td><td>{p.Seeds}</td></tr>");
                html.Append("</tbody></table>");
            }
        }
        html.Append("</section>");
    }

    static void LayerSection(StringBuilder html, IReadOnlyList<RunRecord> runs)
    {
        // The newest completed run with layers for each model, method and target: the others repeat it with other seeds.
        var shown = runs.Where(r => r.Layers.Count > 0)
            .GroupBy(r => (r.Summary.Model, r.Summary.Method ?? r.Summary.Kind, r.Summary.TargetSparsity))
            .Select(g => g.MaxBy(r => r.Summary.Id)!).OrderByDescending(r => r.Summary.Id).Take(MaxCharts).ToList();
        if (shown.Count == 0) return;
        html.Append("<section id=\"layers\"><h2>Per-layer sparsity</h2>");
        if (shown.Count == MaxCharts) html.Append($"<p>The {MaxCharts} newest settings (model, method, target) are shown.</p>");
        foreach (var run in shown)
        {
            var s = run.Summary;
            string title = $"run {s.Id}: {s.Method ?? s.Kind} on {Path.GetFileName(s.Model ?? "?")}" + (s.TargetSparsity is { } t ? $" at {Pct(t)}" : "");
            html.Append("<figure>").Append(SvgChart.FractionBars(title, run.Layers.Select(l => (l.Name, l.Sparsity)).ToList())).Append("</figure>");
        }
        html.Append("</section>");
    }

    static void SizeSection(StringBuilder html, IReadOnlyList<RunRecord> runs)
    {
        if (runs.Count == 0) return;
        html.Append("<section id=\"sizes\"><h2>Parameters, MACs and latency</h2><table class=\"sizes\"><thead><tr>")
            .Append(string.Concat(new[] { "run", "kind", "method", "model", "seed", "target", "sparsity", "quality", "params", "non-zeros", "dense MACs", "effective MACs", "MAC reduction", "latency (ms)", "dense latency (ms)" }.Select(h => $"<th>{E(h)}</th>")))
            .Append("</tr></thead><tbody>");
        foreach (var run in runs.OrderBy(r => r.Summary.Id))
        {
            var s = run.Summary;
            double? M(string name) => s.Metrics.TryGetValue(name, out double v) ? v : null;
            string quality = M(MetricNames.Accuracy) is { } a ? $"acc {Pct(a)}" : M(MetricNames.Perplexity) is { } p ? $"ppl {F(p)}" : M(MetricNames.Fidelity) is { } f ? $"fid {F(f)}" : "";
            string reduction = M(MetricNames.Macs) is { } dense && M(MetricNames.EffectiveMacs) is { } effective && effective > 0 ? (dense / effective).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "";
            string[] cells =
            [
                s.Id.ToString(CultureInfo.InvariantCulture), s.Kind, s.Method ?? "", Path.GetFileName(s.Model ?? ""), s.Seed?.ToString(CultureInfo.InvariantCulture) ?? "",
                s.TargetSparsity is { } t ? Pct(t) : "", M(MetricNames.Sparsity) is { } sp ? Pct(sp) : "", quality,
                Count(M(MetricNames.Parameters)), Count(M(MetricNames.NonZeros)), Count(M(MetricNames.Macs)), Count(M(MetricNames.EffectiveMacs)), reduction,
                M(MetricNames.LatencyMs) is { } l ? F(l) : "", M(MetricNames.DenseLatencyMs) is { } dl ? F(dl) : "",
            ];
            html.Append("<tr>").Append(string.Concat(cells.Select(c => $"<td>{E(c)}</td>"))).Append("</tr>");
        }
        html.Append("</tbody></table></section>");
    }

    static void LotteryTicketSection(StringBuilder html, IReadOnlyList<RunRecord> runs)
    {
        var tickets = runs.Where(r => r.Steps.Any(s => s.Name == MetricNames.Density) && r.Steps.Any(s => s.Name == MetricNames.Accuracy))
            .OrderByDescending(r => r.Summary.Id).Take(MaxCharts).ToList();
        if (tickets.Count == 0) return;
        html.Append("<section id=\"lottery-ticket\"><h2>Lottery Ticket: accuracy against density</h2><p>Each round's test accuracy at the density it left (log scale, dense on the left); " +
            "controls (random re-initialisation, random masks) as further lines.</p>");
        foreach (var run in tickets)
        {
            var density = run.Steps.Where(s => s.Name == MetricNames.Density && s.Value > 0).ToDictionary(s => s.Step, s => s.Value);
            var series = run.Steps.Where(s => s.Name == MetricNames.Accuracy || s.Name.StartsWith(MetricNames.Accuracy + ".", StringComparison.Ordinal))
                .Where(s => density.ContainsKey(s.Step) && double.IsFinite(s.Value))
                .GroupBy(s => s.Name).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new ChartSeries(g.Key == MetricNames.Accuracy ? "ticket" : g.Key[(MetricNames.Accuracy.Length + 1)..],
                    g.Select(s => ChartPoint.Single(100 * density[s.Step], 100 * s.Value)).ToList()))
                .ToList();
            if (series.Count == 0) continue;
            var s = run.Summary;
            html.Append("<figure>").Append(SvgChart.Lines(new SvgChart.LineOptions
            {
                Title = $"run {s.Id}: {s.Method ?? s.Kind} on {Path.GetFileName(s.Model ?? "?")} ({s.Status.ToText()})",
                XLabel = "density (% of weights remaining, log scale)", YLabel = "top-1 test accuracy (%)", LogX = true, ReverseX = true,
            }, series)).Append("</figure>");
        }
        html.Append("</section>");
    }

    static void IncompleteSection(StringBuilder html, IReadOnlyList<RunRecord> runs)
    {
        if (runs.Count == 0) return;
        html.Append("<section id=\"incomplete\"><h2>Runs that did not complete</h2><table><thead><tr><th>run</th><th>status</th><th>kind</th><th>method</th><th>started</th><th>why</th></tr></thead><tbody>");
        foreach (var s in runs.Select(r => r.Summary).OrderBy(s => s.Id))
            html.Append($"<tr><td>{s.Id}</td><td>{E(s.Status.ToText())}</td><td>{E(s.Kind)}</td><td>{E(s.Method ?? "")}</td><td>{E(s.StartedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))}</td><td>{E(s.Error ?? "")}</td></tr>");
        html.Append("</tbody></table></section>");
    }

    /// <summary>The run's sparsity for the x axis: its target, else the measured final sparsity.</summary>
    static double? SparsityOf(RunRecord run) =>
        run.Summary.TargetSparsity ?? (run.Summary.Metrics.TryGetValue(MetricNames.Sparsity, out double s) && double.IsFinite(s) ? s : null);

    static string MeanStd(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        if (values.Count < 2) return F(mean);
        double std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return $"{F(mean)} ± {F(std)}";
    }

    static string E(string text) => WebUtility.HtmlEncode(text);

    static string F(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    static string Pct(double fraction) => (100 * fraction).ToString("0.##", CultureInfo.InvariantCulture) + "%";

    static string Count(double? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "";

    const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
        h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
        .meta{color:#555}figure{margin:1em 0}
        table{border-collapse:collapse;margin:1em 0;font-size:.85em}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
        th{background:#f2f2f2}caption{text-align:left;font-weight:600;padding:4px 0}
        svg.chart{background:#fff;max-width:100%;height:auto}svg .grid{stroke:#e3e3e3}svg .frame{fill:none;stroke:#333}
        svg text{font-size:12px;fill:#222;font-family:inherit}svg text.title{font-size:15px;font-weight:600}
        """;
}
