using System.Diagnostics;
using PruneSharp.Graph;
using PruneSharp.Onnx;

namespace PruneSharp.Bench;

/// <summary>
/// ONNX import time against the time to read the file's bytes (the floor any importer pays), both from the page
/// cache. Measured twice: once cold (each side's memory freshly allocated from the OS, as in a one-shot command) and
/// as the median of warm runs (where .NET's GC reuses the byte array's memory but libtorch maps new memory for tensors).
/// Also reports building a trainable GraphModule from the imported graph.
/// </summary>
sealed class ImportBench : IBenchmark
{
    public string Name => "import";
    public string Description => "OnnxFile.Read vs File.ReadAllBytes of the same model, cold and warm; target ratio <= 2 (args: MODEL.onnx [--repeat N])";

    public int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine($"import needs a model file: {Description}");
            return 2;
        }
        string path = args[0];
        int repeat = args.Length >= 3 && args[1] == "--repeat" ? int.Parse(args[2]) : 5;
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"model file '{path}' does not exist (bench/export_torchvision.py writes bench/models/)");
            return 2;
        }
        long size = new FileInfo(path).Length;
        WarmUpCode();

        // Cold: the first read of each kind in this process, memory fresh from the OS; both results kept alive.
        File.ReadAllBytes(path); // page cache
        var watch = Stopwatch.StartNew();
        byte[] coldBytes = File.ReadAllBytes(path);
        double bytesCold = watch.Elapsed.TotalMilliseconds;
        watch.Restart();
        var graph = OnnxFile.Read(path);
        double importCold = watch.Elapsed.TotalMilliseconds;
        Console.WriteLine($"model {path}: {size / 1e6:F1} MB, {graph.Nodes.Count} nodes, {graph.Initializers.Count} initializers, opset {graph.Opset}");
        GC.KeepAlive(coldBytes);
        Release(graph);

        double bytesWarm = Median(repeat, () => { _ = File.ReadAllBytes(path); return () => { }; });
        double importWarm = Median(repeat, () => { var g = OnnxFile.Read(path); return () => Release(g); });
        Console.WriteLine($"                     {"cold",8}  {"warm",8}   (ms; warm = median of {repeat})");
        Console.WriteLine($"File.ReadAllBytes    {bytesCold,8:F1}  {bytesWarm,8:F1}");
        Console.WriteLine($"OnnxFile.Read        {importCold,8:F1}  {importWarm,8:F1}");
        Console.WriteLine($"ratio                {importCold / bytesCold,8:F2}  {importWarm / bytesWarm,8:F2}   (target <= 2)");
        try
        {
            double module = Median(Math.Min(repeat, 3), () => { var m = OnnxFile.Load(path); return () => m.Dispose(); });
            Console.WriteLine($"OnnxFile.Load (graph + GraphModule, warm) {module:F1} ms, ratio {module / bytesWarm:F2}");
        }
        catch (UnsupportedOpException e)
        {
            Console.WriteLine($"OnnxFile.Load: not measured, {e.Message.Split(". Supported")[0]}");
        }
        return 0;
    }

    /// <summary>Runs the read and write paths once on a tiny model, so that JIT compilation stays out of the timings.</summary>
    static void WarmUpCode()
    {
        string folder = Directory.CreateTempSubdirectory("prunesharp-bench-").FullName;
        try
        {
            var g = new PruneSharp.Graph.Graph { Name = "warmup" };
            g.Inputs.Add(new ValueInfo("x", DataType.Float, new[] { (Dim)4 }));
            g.Outputs.Add(new ValueInfo("y", DataType.Float, new[] { (Dim)4 }));
            g.Initializers["w"] = TorchSharp.torch.ones(4);
            g.Nodes.Add(new Node("mul", "Mul", new[] { "x", "w" }, new[] { "y" }));
            string path = Path.Combine(folder, "warmup.onnx");
            OnnxFile.Write(g, path);
            for (int i = 0; i < 3; i++) Release(OnnxFile.Read(path));
            File.ReadAllBytes(path);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    static void Release(PruneSharp.Graph.Graph graph)
    {
        foreach (var tensor in graph.Initializers.Values) tensor.Dispose();
        GC.Collect();
    }

    /// <summary>Median wall time in ms of <paramref name="run"/>; the cleanup it returns runs outside the timing.</summary>
    static double Median(int repeat, Func<Action> run)
    {
        var times = new List<double>();
        for (int i = 0; i < repeat; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var watch = Stopwatch.StartNew();
            var cleanup = run();
            times.Add(watch.Elapsed.TotalMilliseconds);
            cleanup();
        }
        times.Sort();
        return times[times.Count / 2];
    }
}
