using System.Diagnostics;
using System.Text.RegularExpressions;
using PruneSharp.Reporting;
using PruneSharp.Runs;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Reporting;

/// <summary>
/// The report as a browser shows it: headless Chromium loads the file, and the DOM it builds holds the charts and
/// tables with no console message; a screenshot is kept at $CI_ARTIFACTS (else bin/…/artifacts) for people to look at.
/// </summary>
public sealed class ReportInBrowserTests : IDisposable
{
    const string Chromium = "/usr/bin/chromium";

    readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Runs headless Chromium on <paramref name="file"/> with <paramref name="args"/>; returns its standard output and error.</summary>
    static (string Output, string Error) Browse(string file, params string[] args)
    {
        var info = new ProcessStartInfo(Chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // --no-sandbox: the sandbox cannot start as root (CI containers); the page is our own file.
        foreach (string a in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", .. args, new Uri(file).AbsoluteUri])
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "chromium did not finish");
        Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {error.Result}");
        return (output.Result, error.Result);
    }

    static List<string> ConsoleMessages(string log) => Regex.Matches(log, @"CONSOLE[:(]\d+\)?\][^\n]*").Select(m => m.Value).ToList();

    [RequiresPathFact(Chromium, "chromium")]
    public void Chromium_renders_charts_and_tables_without_console_messages()
    {
        var (path, _) = RunReportTests.MakeStore(_folder);
        string report = _folder.File("report.html");
        using (var store = new SqliteRunStore(path)) RunReport.Write(store, report);

        // The console watch sees a page that logs an error (so silence below means something).
        string noisy = _folder.File("noisy.html");
        File.WriteAllText(noisy, "<!DOCTYPE html><html><body><script>console.error('report test probe')</script></body></html>");
        Assert.Contains(ConsoleMessages(Browse(noisy, "--dump-dom").Error), m => m.Contains("report test probe"));

        var (dom, log) = Browse(report, "--dump-dom");
        Assert.Empty(ConsoleMessages(log));
        foreach (string id in new[] { "quality", "layers", "sizes", "lottery-ticket", "incomplete" })
            Assert.Contains($"<section id=\"{id}\">", dom);
        Assert.Equal(1 + 6 + 1, Regex.Matches(dom, "<svg ").Count); // quality, six layer charts, one ticket chart
        Assert.True(Regex.Matches(dom, "<table").Count >= 3);

        string artifacts = Environment.GetEnvironmentVariable("CI_ARTIFACTS") is { Length: > 0 } ci ? ci : Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        string screenshot = Path.Combine(artifacts, "run-report.png");
        File.Delete(screenshot);
        Browse(report, $"--screenshot={screenshot}", "--window-size=1200,4000");
        var png = File.ReadAllBytes(screenshot);
        Assert.True(png.Length > 10_000, $"screenshot {screenshot} is only {png.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }
}
