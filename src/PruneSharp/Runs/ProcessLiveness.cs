using System.Diagnostics;

namespace PruneSharp.Runs;

/// <summary>The process a run belongs to: its machine, id and start time (Unix milliseconds; 0 when unknown).</summary>
readonly record struct RunOwner(string Host, int ProcessId, long StartedMs)
{
    /// <summary>This process.</summary>
    public static RunOwner Current { get; } = new(Environment.MachineName, Environment.ProcessId, ProcessLiveness.CurrentStartMs);
}

/// <summary>Whether a process recorded by id and start time on this machine still runs (a reused id with another start time does not count).</summary>
static class ProcessLiveness
{
    /// <summary>This process's start time, Unix milliseconds.</summary>
    public static long CurrentStartMs { get; } = StartMs(Process.GetCurrentProcess()) ?? 0;

    /// <summary>The start time of process <paramref name="pid"/>, Unix milliseconds, or null if it does not run.</summary>
    public static long? StartMsOf(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return StartMs(process);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>True if process <paramref name="pid"/> runs and started at <paramref name="startedMs"/> (within 2 s; 0: not compared).</summary>
    public static bool IsRunning(int pid, long startedMs)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited) return false;
            if (startedMs == 0 || StartMs(process) is not { } actual) return true;
            return Math.Abs(actual - startedMs) <= 2000;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false; // it ended while we looked
        }
    }

    static long? StartMs(Process process)
    {
        try
        {
            return new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return null;
        }
    }
}
