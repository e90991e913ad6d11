using System.Diagnostics;

namespace PruneSharp.Tests.Support;

/// <summary>
/// A throwaway one-node Slurm cluster on this machine for the tests, from Debian's <c>slurm-wlm</c> and <c>munge</c>:
/// a <c>munged</c> with its own key and socket, <c>slurmctld -D</c> and <c>slurmd -D</c> (as root, the node named
/// <c>hostname -s</c> with 2 CPUs, free ports) reading a <c>slurm.conf</c> written in a temporary folder. While it is
/// up, <c>SLURM_CONF</c> points this process (and so <c>sbatch</c>, <c>squeue</c>, <c>scancel</c> and the jobs, which
/// inherit the environment) at it. Disposing stops the daemons, restores <c>SLURM_CONF</c> and removes the folder.
/// </summary>
public sealed class SlurmCluster : IDisposable
{
    static readonly string[] Programs = ["/usr/sbin/munged", "/usr/sbin/mungekey", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/bin/squeue", "/usr/bin/sinfo", "/usr/bin/scancel"];

    readonly string _folder;
    readonly List<Process> _daemons = [];
    readonly string? _oldConf = Environment.GetEnvironmentVariable("SLURM_CONF");

    /// <summary>Why a cluster cannot be started here (null: it can): a program missing, or not root (the daemons run jobs as any user).</summary>
    public static string? Unavailable { get; } =
        Programs.FirstOrDefault(p => !File.Exists(p)) is { } missing ? $"{missing} is absent (apt-get install slurm-wlm munge)"
        : Environment.UserName != "root" ? "a local Slurm cluster needs root (slurmd starts jobs as their users)"
        : null;

    /// <summary>The <c>slurm.conf</c> in use.</summary>
    public string Conf { get; }

    /// <summary>Starts the cluster and waits (up to 30 s) until its node is idle.</summary>
    /// <exception cref="InvalidOperationException">It cannot start here, or the node did not come up; the message holds the daemons' logs.</exception>
    public SlurmCluster()
    {
        if (Unavailable is { } why) throw new InvalidOperationException(why);
        _folder = Path.Combine(Path.GetTempPath(), "prunesharp-slurm-" + Guid.NewGuid().ToString("N"));
        string munge = Path.Combine(_folder, "munge"), socket = Path.Combine(munge, "socket"), key = Path.Combine(munge, "munge.key");
        Directory.CreateDirectory(munge, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Combine(_folder, "state"));
        Directory.CreateDirectory(Path.Combine(_folder, "spool"));
        Conf = Path.Combine(_folder, "slurm.conf");
        try
        {
            Exec("/usr/sbin/mungekey", ["--create", "--keyfile", key]);
            Start("/usr/sbin/munged", ["--foreground", "--force", "--socket", socket, "--key-file", key, "--pid-file", Path.Combine(munge, "pid"),
                "--log-file", Path.Combine(munge, "log"), "--seed-file", Path.Combine(munge, "seed")]);
            WaitFor(() => File.Exists(socket), TimeSpan.FromSeconds(10), "munged did not create its socket");
            string host = Exec("/usr/bin/hostname", ["-s"]).Trim();
            int controller = PostgresCluster.FreePort(), node = PostgresCluster.FreePort();
            File.WriteAllText(Conf, $"""
                ClusterName=prunesharp
                SlurmctldHost={host}
                SlurmctldPort={controller}
                SlurmdPort={node}
                SlurmUser=root
                SlurmdUser=root
                AuthType=auth/munge
                CredType=cred/munge
                AuthInfo=socket={socket}
                StateSaveLocation={Path.Combine(_folder, "state")}
                SlurmdSpoolDir={Path.Combine(_folder, "spool")}
                SlurmctldPidFile={Path.Combine(_folder, "slurmctld.pid")}
                SlurmdPidFile={Path.Combine(_folder, "slurmd.pid")}
                SlurmctldLogFile={Path.Combine(_folder, "slurmctld.log")}
                SlurmdLogFile={Path.Combine(_folder, "slurmd.log")}
                ProctrackType=proctrack/linuxproc
                TaskPlugin=task/none
                SelectType=select/cons_tres
                SelectTypeParameters=CR_CPU
                SchedulerType=sched/builtin
                MpiDefault=none
                ReturnToService=2
                JobAcctGatherType=jobacct_gather/none
                AccountingStorageType=accounting_storage/none
                JobCompType=jobcomp/none
                NodeName={host} CPUs=2 State=UNKNOWN
                PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP

                """);
            Environment.SetEnvironmentVariable("SLURM_CONF", Conf);
            Start("/usr/sbin/slurmctld", ["-D", "-f", Conf]);
            Start("/usr/sbin/slurmd", ["-D", "-f", Conf]);
            WaitFor(() => TryExec("/usr/bin/sinfo", ["--noheader", "--format=%t"])?.Trim() == "idle", TimeSpan.FromSeconds(30),
                "the Slurm node did not become idle within 30 s");
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            string logs = Logs();
            Dispose();
            throw new InvalidOperationException($"the local Slurm cluster did not start: {e.Message}\n{logs}", e);
        }
    }

    /// <summary>Runs a Slurm client program (squeue, scancel, ...) against the cluster and returns its standard output.</summary>
    /// <exception cref="InvalidOperationException">It failed; the message holds its error output.</exception>
    public string Run(string program, params string[] args) => Exec(Path.Combine("/usr/bin", program), args);

    /// <summary>Waits until <paramref name="done"/> holds, polling; throws with <paramref name="what"/> and the daemons' logs after <paramref name="limit"/>.</summary>
    public void WaitFor(Func<bool> done, TimeSpan limit, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > limit) throw new InvalidOperationException($"{what} (waited {limit.TotalSeconds:F0} s)\n{Logs()}");
            Thread.Sleep(200);
        }
    }

    /// <summary>The daemons' log files' last lines, for failure messages.</summary>
    public string Logs() => string.Join("\n", new[] { "munge/log", "slurmctld.log", "slurmd.log" }
        .Select(name => Path.Combine(_folder, name))
        .Where(File.Exists)
        .Select(path => $"--- {path}:\n" + string.Join("\n", File.ReadLines(path).TakeLast(20))));

    public void Dispose()
    {
        for (int i = _daemons.Count - 1; i >= 0; i--)
        {
            var daemon = _daemons[i];
            try
            {
                if (!daemon.HasExited)
                {
                    daemon.Kill(entireProcessTree: true);
                    daemon.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            daemon.Dispose();
        }
        _daemons.Clear();
        Environment.SetEnvironmentVariable("SLURM_CONF", _oldConf);
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    void Start(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _folder };
        foreach (string a in args) info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        // Drain the pipes so a chatty daemon never blocks on a full one.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _daemons.Add(process);
    }

    string? TryExec(string program, string[] args)
    {
        try
        {
            return Exec(program, args);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    string Exec(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _folder };
        foreach (string a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result.Trim()}");
        return output;
    }
}
