using System.Diagnostics;
using System.Globalization;
using PruneSharp.Onnx;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Cli;

/// <summary>
/// The command as a separate process, killed while it works (SIGTERM, SIGINT, SIGKILL at a point drawn from a seeded
/// generator, after its first checkpoint): it exits with 128 + the signal's number, leaves no temporary file once the
/// run is resumed, and the resumed run ends bit-identical to an uninterrupted one.
/// Timing-sensitive: runs with the serial tests, after the parallel ones, so that a loaded machine does not move the
/// signal past the work it should interrupt.
/// </summary>
[Collection(SerialCollection.Name)]
public class FaultTests
{
    const int Sigkill = 9, Sigterm = 15, Sigint = 2;

    static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "PruneSharp.Cli.dll");

    /// <summary>Runs <paramref name="args"/> (a program and its arguments) and returns its exit code and standard error.</summary>
    static (int Code, string Error) Exec(params string[] args)
    {
        var info = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args.Skip(1)) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var error = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (error) error.AppendLine(e.Data); };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "the command did not end");
        process.WaitForExit();
        lock (error) return (process.ExitCode, error.ToString());
    }

    static (int Code, string Error) Run(params string[] args) => Exec(["dotnet", Cli, .. args]);

    /// <summary>
    /// Runs the command, waits for <paramref name="file"/> to appear (or, if it is there already, a second), then a
    /// delay drawn from <paramref name="seed"/>, and sends <paramref name="signal"/>. The shell that starts the command
    /// sends the signal (its parent), and says so when the command ended first.
    /// </summary>
    static (int Code, string Error) Interrupt(string file, int signal, int seed, params string[] args) => Interrupt(file, 1, signal, seed, args);

    /// <summary>As above, waiting <paramref name="settle"/> seconds when <paramref name="file"/> is there from the start.</summary>
    static (int Code, string Error) Interrupt(string file, double settle, int signal, int seed, params string[] args)
    {
        const string Script = """
            set -m # job control: a background command does not start with SIGINT ignored
            file=$1; signal=$2; delay=$3; settle=$4; shift 4
            [ -e "$file" ] && existed=1
            "$@" & pid=$!
            [ -n "$existed" ] && sleep "$settle"
            while [ ! -e "$file" ] && kill -0 $pid 2>/dev/null; do sleep 0.005; done
            sleep "$delay"
            kill -s "$signal" $pid 2>/dev/null || echo "fault test: the command ended before the signal" >&2
            wait $pid
            """;
        string delay = (new Random(seed).Next(0, 300) / 1000.0).ToString("0.000", CultureInfo.InvariantCulture);
        var result = Exec(["bash", "-c", Script, "bash", file, signal.ToString(CultureInfo.InvariantCulture), delay, settle.ToString(CultureInfo.InvariantCulture), "dotnet", Cli, .. args]);
        Assert.DoesNotContain("fault test: the command ended before the signal", result.Error);
        return result;
    }

    static void AssertNoTemporaries(string folder) =>
        Assert.Empty(Directory.EnumerateFiles(folder, "*.tmp", SearchOption.AllDirectories));

    static void AssertSameWeights(string expected, string actual)
    {
        var (a, b) = (OnnxFile.Read(expected), OnnxFile.Read(actual));
        Assert.Equal(a.Initializers.Keys.Order(), b.Initializers.Keys.Order());
        foreach (var (name, value) in a.Initializers) Assert.True(value.eq(b.Initializers[name]).all().item<bool>(), $"{name} differs");
    }

    [Fact]
    public void Train_killed_while_training_resumes_to_the_same_weights_and_leaves_nothing()
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, count: 128);
        string[] Train(string output, params string[] more) =>
            ["train", "--model", "lenet-5", "--data", data, "--epochs", "30", "--batch-size", "32", "--threads", "1", "--seed", "4", "-o", output, .. more];
        var (code, error) = Run(Train(folder.File("reference.onnx")));
        Assert.True(code == 0, error);

        foreach (var (signal, expectedCode, seed) in new[] { (Sigterm, 143, 1), (Sigint, 130, 2), (Sigkill, 137, 3) })
        {
            string output = folder.File($"run-{signal}.onnx");
            (code, error) = Interrupt(output + ".ckpt", signal, seed, Train(output));
            Assert.True(code == expectedCode, $"signal {signal}: exit code {code}: {error}");
            Assert.False(File.Exists(output));
            if (signal != Sigkill)
            {
                Assert.Contains("checkpoint saved", error);
                AssertNoTemporaries(folder.Path);
            }
            (code, error) = Run(Train(output, "--resume"));
            Assert.True(code == 0, error);
            AssertSameWeights(folder.File("reference.onnx"), output);
            AssertNoTemporaries(folder.Path);
        }
    }

    [Theory]
    [InlineData(0.3, Sigint, 130)] // during start-up (loading libtorch, the data, the model)
    [InlineData(5.0, Sigterm, 143)] // during the fine-tune (start-up takes one to two seconds; the fine-tune far longer: it is always cut short)
    public void Prune_interrupted_writes_nothing(double after, int signal, int expectedCode)
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, count: 256);
        string output = folder.File("pruned.onnx");
        var (code, error) = Interrupt(Path.Combine(data, "t10k-labels-idx1-ubyte"), after, signal, 4,
            "prune", "lenet-5", "--sparsity", "0.5", "--data", data, "--finetune-epochs", "5000", "--batch-size", "32", "-o", output);
        Assert.True(code == expectedCode, $"exit code {code}: {error}");
        // A SIGINT that arrives before the runtime has installed its handlers (a loaded machine can stretch start-up
        // past the delay) ends the process by the signal's default action: the same exit code, nothing written, no message.
        if (signal != Sigint) Assert.Contains("interrupted", error);
        Assert.False(File.Exists(output));
        AssertNoTemporaries(folder.Path);
    }

    [Fact]
    public void Lth_killed_mid_experiment_resumes_to_the_same_results()
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, count: 128);
        string[] Lth(string output) =>
            ["lth", "--model", "lenet-5", "--data", data, "--rounds", "2", "--epochs", "8", "--batch-size", "32", "--threads", "1", "--out", output];
        var (code, error) = Run(Lth(folder.File("reference")));
        Assert.True(code == 0, error);
        string output = folder.File("run");
        (code, error) = Interrupt(Path.Combine(output, "rewind.bin"), Sigkill, 5, Lth(output));
        Assert.True(code == 137, $"exit code {code}: {error}");
        (code, error) = Run(Lth(output));
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllText(folder.File("reference", "results.csv")), File.ReadAllText(Path.Combine(output, "results.csv")));
        AssertNoTemporaries(folder.Path);
    }
}
