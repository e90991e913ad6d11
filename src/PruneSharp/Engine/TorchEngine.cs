using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace PruneSharp.Engine;

/// <summary>
/// The tensor engine (TorchSharp over libtorch): loads it once, and describes what it runs on.
/// Everything else uses TorchSharp's own API directly.
/// </summary>
public static class TorchEngine
{
    static readonly Lazy<Exception?> LoadFailure = new(TryLoad);

    /// <summary>
    /// Loads libtorch, or throws <see cref="EngineUnavailableException"/> with one sentence that names the cause and the fix.
    /// </summary>
    public static void EnsureLoaded()
    {
        if (LoadFailure.Value is { } failure)
            throw new EngineUnavailableException(Explain(failure), failure);
    }

    /// <summary>Versions, devices and threads of the loaded engine.</summary>
    public static EngineInfo Describe()
    {
        EnsureLoaded();
        var devices = new List<string> { "cpu" };
        if (torch.cuda.is_available()) devices.Add($"cuda (x{torch.cuda.device_count()})");
        return new EngineInfo(
            PruneSharpVersion: VersionOf(typeof(TorchEngine).Assembly),
            TorchSharpVersion: VersionOf(typeof(torch).Assembly),
            LibTorchVersion: torch.__version__,
            Devices: devices,
            Threads: torch.get_num_threads());
    }

    /// <summary>
    /// Makes the C heap keep memory that tensors free instead of handing it back to the operating system, so that the
    /// next tensor of a similar size reuses pages already mapped. libtorch's CPU allocator takes every activation from
    /// malloc; with glibc's defaults large blocks are unmapped when freed and trimmed off the heap top, and each forward
    /// pass then pays first-touch page faults for all its activations again (on this project's VMs a ResNet-18
    /// forward+backward pass at batch 1 took 0.09 s that way against 0.07 s with the memory kept; docs/benchmarks.md).
    /// The price is that the process keeps its peak heap size until it exits, which suits one-shot commands and
    /// benchmarks; a long-running host decides for itself. Sets glibc's <c>M_MMAP_THRESHOLD</c> (32 MiB, its largest), <c>M_TRIM_THRESHOLD</c> and
    /// <c>M_TOP_PAD</c>; elsewhere (another C library or OS) nothing changes. Returns whether the settings took.
    /// </summary>
    public static bool RetainFreedMemory()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return false;
        try
        {
            const int TrimThreshold = -1, TopPad = -2, MmapThreshold = -3;
            return MallocOption(MmapThreshold, 32 << 20) == 1 & MallocOption(TrimThreshold, int.MaxValue) == 1
                   & MallocOption(TopPad, 64 << 20) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false; // not glibc
        }
    }

    /// <summary>
    /// The opposite of <see cref="RetainFreedMemory"/>, for work whose peak memory matters more than page faults
    /// (layer-by-layer pruning of a checkpoint larger than one wants resident): blocks of 1 MiB and more are mapped
    /// on their own and unmapped when freed, and the heap top is trimmed above 16 MiB of free space. glibc's default
    /// raises its mapping threshold each time a large block is freed, after which such blocks come from the heap and
    /// stay resident; a fixed threshold keeps them out of it. Returns whether the settings took (glibc only).
    /// </summary>
    public static bool ReleaseFreedMemory()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return false;
        try
        {
            const int TrimThreshold = -1, TopPad = -2, MmapThreshold = -3;
            return MallocOption(MmapThreshold, 1 << 20) == 1 & MallocOption(TrimThreshold, 16 << 20) == 1
                   & MallocOption(TopPad, 0) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false; // not glibc
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallocOption(int parameter, int value);

    static Exception? TryLoad()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            using var probe = torch.zeros(1);
            DisableNnpack();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>
    /// Turns libtorch's NNPACK convolution path off. On CPUs NNPACK does not support (AVX-512 machines such as ours)
    /// every convolution that considers it logs "Could not initialize NNPACK! Reason: Unsupported hardware" to stderr,
    /// dozens of lines per forward pass; with the user switch off the check is skipped and the same oneDNN or native
    /// kernels run. TorchSharp does not wrap the switch, so it is called through libtorch's C++ ABI
    /// (<c>at::globalContext().setUserEnabledNNPACK(false)</c>); if the symbols are missing nothing changes.
    /// </summary>
    static void DisableNnpack()
    {
        try
        {
            SetUserEnabledNnpack(GlobalContext(), false);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // An engine build without the switch: keep its default.
        }
    }

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    static extern IntPtr GlobalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    static string Explain(Exception failure)
    {
        string all = failure.ToString();
        if (all.Contains("GLIBCXX", StringComparison.Ordinal) || all.Contains("libLibTorchSharp", StringComparison.Ordinal))
            return "The libtorch engine (libLibTorchSharp.so) could not be loaded: rebuild with 'dotnet build' so that the " +
                   "GLIBCXX_3.4.32 need is marked weak in the output folder (see README, Platform notes), or install a libstdc++ from GCC 13 or newer.";
        return $"The libtorch engine could not be loaded ({failure.GetBaseException().Message.Split('\n')[0].Trim()}): " +
               "check that the build output holds runtimes/linux-x64/native/libtorch_cpu.so and that this is a Linux x64 machine.";
    }

    static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "unknown";
}

/// <summary>What the engine runs on.</summary>
/// <param name="PruneSharpVersion">This library's version.</param>
/// <param name="TorchSharpVersion">The TorchSharp assembly's version.</param>
/// <param name="LibTorchVersion">The native libtorch version.</param>
/// <param name="Devices">Devices tensors can be placed on.</param>
/// <param name="Threads">Intra-op threads libtorch uses.</param>
public sealed record EngineInfo(string PruneSharpVersion, string TorchSharpVersion, string LibTorchVersion, IReadOnlyList<string> Devices, int Threads);

/// <summary>The tensor engine could not be loaded; the message says why and how to fix it.</summary>
public sealed class EngineUnavailableException(string message, Exception inner) : Exception(message, inner);
