using System.Globalization;
using System.Runtime.InteropServices;
using PruneSharp.Engine;

namespace PruneSharp.Runs;

/// <summary>
/// What a run ran on and with: software versions, machine and threads. Stored as named text values, so a later
/// release may add names; <see cref="ToValues"/> and <see cref="FromValues"/> convert.
/// </summary>
/// <param name="PruneSharpVersion">This library's informational version.</param>
/// <param name="TorchSharpVersion">TorchSharp's version.</param>
/// <param name="LibTorchVersion">libtorch's version (<c>torch.__version__</c>).</param>
/// <param name="OnnxRuntimeVersion">ONNX Runtime's managed assembly version.</param>
/// <param name="DotnetVersion">The .NET runtime (<see cref="RuntimeInformation.FrameworkDescription"/>).</param>
/// <param name="OperatingSystem">The operating system and architecture.</param>
/// <param name="Machine">The host name.</param>
/// <param name="ProcessorCount">Logical processors the process may use.</param>
/// <param name="Threads">libtorch's intra-op threads.</param>
/// <param name="Devices">Devices libtorch sees (e.g. <c>cpu, cuda (x1)</c>).</param>
public sealed record RunEnvironment(
    string PruneSharpVersion,
    string TorchSharpVersion,
    string LibTorchVersion,
    string OnnxRuntimeVersion,
    string DotnetVersion,
    string OperatingSystem,
    string Machine,
    int ProcessorCount,
    int Threads,
    string Devices)
{
    /// <summary>Describes this process (loads libtorch if it is not loaded yet).</summary>
    /// <exception cref="EngineUnavailableException">libtorch cannot be loaded.</exception>
    public static RunEnvironment Capture()
    {
        EngineInfo engine = TorchEngine.Describe();
        return new RunEnvironment(
            PruneSharpVersion: engine.PruneSharpVersion,
            TorchSharpVersion: engine.TorchSharpVersion,
            LibTorchVersion: engine.LibTorchVersion,
            OnnxRuntimeVersion: typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString() ?? "unknown",
            DotnetVersion: RuntimeInformation.FrameworkDescription,
            OperatingSystem: $"{RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})",
            Machine: Environment.MachineName,
            ProcessorCount: Environment.ProcessorCount,
            Threads: engine.Threads,
            Devices: string.Join(", ", engine.Devices));
    }

    /// <summary>The environment as named text values (the names are the stored keys).</summary>
    public IReadOnlyDictionary<string, string> ToValues() => new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["prunesharp"] = PruneSharpVersion,
        ["torchsharp"] = TorchSharpVersion,
        ["libtorch"] = LibTorchVersion,
        ["onnxruntime"] = OnnxRuntimeVersion,
        ["dotnet"] = DotnetVersion,
        ["os"] = OperatingSystem,
        ["machine"] = Machine,
        ["processors"] = ProcessorCount.ToString(CultureInfo.InvariantCulture),
        ["threads"] = Threads.ToString(CultureInfo.InvariantCulture),
        ["devices"] = Devices,
    };

    /// <summary>Reads values written by <see cref="ToValues"/>; a missing name reads as <c>unknown</c> (or 0 for counts).</summary>
    public static RunEnvironment FromValues(IReadOnlyDictionary<string, string> values)
    {
        string Text(string key) => values.GetValueOrDefault(key) ?? "unknown";
        int Count(string key) => int.TryParse(values.GetValueOrDefault(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 0;
        return new RunEnvironment(Text("prunesharp"), Text("torchsharp"), Text("libtorch"), Text("onnxruntime"), Text("dotnet"),
            Text("os"), Text("machine"), Count("processors"), Count("threads"), Text("devices"));
    }
}
