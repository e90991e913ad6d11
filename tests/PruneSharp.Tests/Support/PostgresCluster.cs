using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace PruneSharp.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL cluster for the tests: <c>initdb</c> in a temporary folder, <c>pg_ctl start</c> on a free
/// port on 127.0.0.1 with trust authentication, stopped and removed when the test process exits. PostgreSQL refuses
/// to run as root, so under root it runs as the <c>postgres</c> user (Debian's package makes it) via <c>runuser</c>.
/// One cluster serves the whole test run; each test gets its own database from <see cref="NewDatabase"/>.
/// </summary>
public sealed class PostgresCluster
{
    static readonly Lazy<PostgresCluster> Shared = new(() => new PostgresCluster());

    readonly string _folder;
    readonly string _bin;
    readonly string? _runAs;

    /// <summary>Why a cluster cannot be started here (null: it can).</summary>
    public static string? Unavailable { get; } = FindUnavailable(out _, out _);

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    PostgresCluster()
    {
        if (FindUnavailable(out string? bin, out string? runAs) is { } why) throw new InvalidOperationException(why);
        _bin = bin!;
        _runAs = runAs;
        _folder = Path.Combine(Path.GetTempPath(), "prunesharp-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        if (_runAs != null) Exec("chown", [_runAs, _folder]);
        Port = FreePort();
        string data = Path.Combine(_folder, "data");
        Pg("initdb", ["-D", data, "-U", "runs", "-A", "trust", "-E", "UTF8", "--no-sync"]);
        Pg("pg_ctl", ["-D", data, "-l", Path.Combine(_folder, "server.log"), "-w", "-t", "60", "-o",
            $"-p {Port} -k {_folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(data);
    }

    /// <summary>The cluster, started on first use.</summary>
    /// <exception cref="InvalidOperationException">It cannot start; the message says why (with the server log).</exception>
    public static PostgresCluster Instance => Shared.Value;

    /// <summary>Creates an empty database and returns its <c>postgres://</c> address.</summary>
    public string NewDatabase()
    {
        string name = "t" + Guid.NewGuid().ToString("N");
        using (var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=runs;Database=postgres;Pooling=false"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE {name}";
            command.ExecuteNonQuery();
        }
        return $"postgres://runs@127.0.0.1:{Port}/{name}";
    }

    void Stop(string data)
    {
        try
        {
            Pg("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    void Pg(string tool, string[] args)
    {
        string program = Path.Combine(_bin, tool);
        if (_runAs == null) Exec(program, args);
        else Exec("runuser", ["-u", _runAs, "--", program, .. args]);
    }

    void Exec(string program, string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _folder };
        foreach (string a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            string log = Path.Combine(_folder, "server.log");
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {error}{output.Result}" +
                (File.Exists(log) ? "\nserver log:\n" + File.ReadAllText(log) : ""));
        }
    }

    static string? FindUnavailable(out string? bin, out string? runAs)
    {
        runAs = null;
        bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).Order().LastOrDefault()
            : null;
        if (bin == null) return "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)";
        if (Environment.UserName != "root") return null;
        bool hasUser = File.ReadLines("/etc/passwd").Any(l => l.StartsWith("postgres:", StringComparison.Ordinal));
        if (!hasUser || !File.Exists("/usr/sbin/runuser") && !File.Exists("/sbin/runuser"))
            return "running as root, and PostgreSQL refuses root: no 'postgres' user or no runuser to run it as";
        runAs = "postgres";
        return null;
    }

    /// <summary>A TCP port free on 127.0.0.1 just now.</summary>
    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
