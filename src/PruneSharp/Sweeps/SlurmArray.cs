using System.Diagnostics;
using System.Globalization;
using System.Text;
using PruneSharp.Files;

namespace PruneSharp.Sweeps;

/// <summary>The Slurm settings of a sweep's job array.</summary>
/// <param name="Name">The job's name.</param>
/// <param name="Partition">The partition (null: the cluster's default).</param>
/// <param name="Time">The time limit per task, as sbatch reads it (e.g. 01:00:00; null: the partition's default).</param>
/// <param name="CpusPerTask">CPUs per task (null: the default).</param>
/// <param name="MaxRunning">Tasks running at once (the array's %N throttle; null: no limit).</param>
public sealed record SlurmJob(string Name, string? Partition = null, string? Time = null, int? CpusPerTask = null, int? MaxRunning = null);

/// <summary>
/// A sweep as a Slurm job array: <c>cells.txt</c> holds one shell command per cell, and <c>sweep.sbatch</c> is an
/// array job whose task i runs line i; each task's output goes to <c>slurm-JOB_TASK.out</c> in the same folder.
/// </summary>
public static class SlurmArray
{
    /// <summary>Writes <c>cells.txt</c> and <c>sweep.sbatch</c> under <paramref name="folder"/> (atomically) and returns the script's path.</summary>
    /// <param name="folder">The sweep's folder (created if needed).</param>
    /// <param name="job">The job's settings.</param>
    /// <param name="commands">One shell command per task, already quoted.</param>
    public static string Write(string folder, SlurmJob job, IReadOnlyList<string> commands)
    {
        if (commands.Count == 0) throw new ArgumentException("a job array needs at least one cell");
        if (commands.Any(c => c.Contains('\n'))) throw new ArgumentException("a cell's command must be one line");
        Directory.CreateDirectory(folder);
        string cells = Path.Combine(folder, "cells.txt"), script = Path.Combine(folder, "sweep.sbatch");
        Write(cells, string.Join("\n", commands) + "\n");
        var text = new StringBuilder();
        text.Append("#!/bin/bash\n");
        text.Append($"#SBATCH --job-name={Safe(job.Name)}\n");
        text.Append($"#SBATCH --array=1-{commands.Count}{(job.MaxRunning is { } max ? "%" + max.ToString(CultureInfo.InvariantCulture) : "")}\n");
        text.Append($"#SBATCH --output={Path.Combine(folder, "slurm-%A_%a.out")}\n");
        if (job.Partition is { } partition) text.Append($"#SBATCH --partition={Safe(partition)}\n");
        if (job.Time is { } time) text.Append($"#SBATCH --time={Safe(time)}\n");
        if (job.CpusPerTask is { } cpus) text.Append($"#SBATCH --cpus-per-task={cpus.ToString(CultureInfo.InvariantCulture)}\n");
        text.Append("set -euo pipefail\n");
        text.Append($"cd {CellCommand.Quote(Directory.GetCurrentDirectory())}\n");
        text.Append($"line=$(sed -n \"${{SLURM_ARRAY_TASK_ID}}p\" {CellCommand.Quote(cells)})\n");
        text.Append("eval \"$line\"\n");
        Write(script, text.ToString());
        return script;
    }

    /// <summary>Submits <paramref name="script"/> with <c>sbatch --parsable</c> and returns the job id.</summary>
    /// <exception cref="IOException">sbatch is not installed or refused the job (its message included).</exception>
    public static string Submit(string script)
    {
        var start = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("--parsable");
        start.ArgumentList.Add(script);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new IOException("cannot start sbatch");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new IOException($"sbatch is not installed here; the job array is written: submit {script} on the cluster, or rerun with --no-submit");
        }
        using (process)
        {
            string output = process.StandardOutput.ReadToEnd(), error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new IOException($"sbatch refused {script}: {error.Trim()}");
            return output.Trim().Split(';')[0];
        }
    }

    static string Safe(string value) =>
        value.All(c => char.IsAsciiLetterOrDigit(c) || "-_.:".Contains(c)) ? value : throw new ArgumentException($"Slurm setting '{value}' may hold only letters, digits, '-', '_', '.' and ':'");

    static void Write(string path, string text) => AtomicFile.Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)));
}
