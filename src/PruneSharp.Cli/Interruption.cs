using System.Runtime.InteropServices;
using PruneSharp.Files;

namespace PruneSharp.Cli;

/// <summary>
/// What SIGINT (Ctrl+C) and SIGTERM (<c>kill</c>, systemd, Slurm, container runtimes) do, the same for both. While
/// interruptible work runs (<see cref="Run{T}"/>: training, which checkpoints), the first signal cancels it and the
/// command exits with 128 + the signal's number (130, 143). Otherwise, or on a second signal, the files being
/// written are removed (their targets keep their old content) and the process exits at once with that code.
/// </summary>
static class Interruption
{
    static readonly object Gate = new();
    static CancellationTokenSource? _current;
    static PosixSignal _signal = PosixSignal.SIGINT;
    static readonly List<PosixSignalRegistration> Registrations = new();

    /// <summary>The exit code for the signal received: 130 for SIGINT, 143 for SIGTERM.</summary>
    public static int ExitCode => _signal == PosixSignal.SIGTERM ? 143 : 130;

    /// <summary>Handles SIGINT, SIGTERM and SIGQUIT for the rest of the process.</summary>
    public static void Install()
    {
        // A parent may start us with SIGINT/SIGTERM ignored (an inherited SIG_IGN, as a shell gives background jobs);
        // the runtime then never delivers them. This command checkpoints on them, so it takes them back.
        foreach (int signal in new[] { 2, 15 }) ResetToDefault(signal, IntPtr.Zero);
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
            Registrations.Add(PosixSignalRegistration.Create(signal, Handle));
    }

    /// <summary>Runs <paramref name="work"/> with a token that the first SIGINT or SIGTERM cancels (instead of ending the process).</summary>
    public static T Run<T>(Func<CancellationToken, T> work)
    {
        using var cancel = new CancellationTokenSource();
        lock (Gate) _current = cancel;
        try
        {
            return work(cancel.Token);
        }
        finally
        {
            lock (Gate) _current = null;
        }
    }

    static void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        lock (Gate)
        {
            _signal = context.Signal == PosixSignal.SIGQUIT ? PosixSignal.SIGTERM : context.Signal;
            if (_current is { IsCancellationRequested: false } running)
            {
                running.Cancel();
                return;
            }
        }
        AtomicFile.RemovePending();
        Console.Error.WriteLine();
        Console.Error.WriteLine($"prunesharp: interrupted ({context.Signal}); nothing half-written was left");
        // Not Environment.Exit: its shutdown runs libtorch's static destructors while the main thread may still be
        // inside libtorch, which crashes (seen as a segmentation fault). The files that matter are handled above.
        ExitNow(ExitCode);
    }

    /// <summary>Ends the process at once with <paramref name="status"/>, running no further managed or native code.</summary>
    [DllImport("libc", EntryPoint = "signal")]
    static extern IntPtr ResetToDefault(int signal, IntPtr handler);

    [DllImport("libc", EntryPoint = "_exit")]
    static extern void ExitNow(int status);
}
