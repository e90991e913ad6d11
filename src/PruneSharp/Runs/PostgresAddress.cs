using System.Globalization;
using Npgsql;

namespace PruneSharp.Runs;

/// <summary>
/// Reads a PostgreSQL address in URI form, <c>postgres://[user[:password]@]host[:port]/database[?key=value&amp;…]</c>
/// (<c>postgresql://</c> too), into Npgsql's settings. Query keys are Npgsql's connection-string keys, plus libpq's
/// <c>sslmode</c> and <c>host</c> (a socket folder such as <c>/run/postgresql</c>, which a URI host cannot hold).
/// </summary>
public static class PostgresAddress
{
    /// <summary>True if <paramref name="location"/> is a PostgreSQL address rather than a file path.</summary>
    public static bool IsAddress(string location) =>
        location.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || location.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses <paramref name="address"/>.</summary>
    /// <exception cref="RunStoreException">Not a PostgreSQL address, or a part of it is malformed (the message names it).</exception>
    public static NpgsqlConnectionStringBuilder Parse(string address)
    {
        if (!IsAddress(address)) throw new RunStoreException($"'{address}' is not a PostgreSQL address (postgres://user:password@host:port/database)");
        if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri))
            throw new RunStoreException($"PostgreSQL address '{Hide(address)}' is malformed (expected postgres://user:password@host:port/database)");
        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0) throw new RunStoreException($"PostgreSQL address '{Hide(address)}' names no database (postgres://host/DATABASE)");
        var builder = new NpgsqlConnectionStringBuilder { Database = database };
        if (uri.Host.Length > 0) builder.Host = uri.Host;
        if (uri.Port > 0) builder.Port = uri.Port;
        if (uri.UserInfo.Length > 0)
        {
            string[] parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            string key = Uri.UnescapeDataString(kv[0]);
            string value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1].Replace('+', ' ')) : "";
            try
            {
                switch (key.ToLowerInvariant())
                {
                    case "sslmode": builder.SslMode = Enum.Parse<SslMode>(value.Replace("-", ""), ignoreCase: true); break;
                    case "host": builder.Host = value; break;
                    default: builder[key] = value; break;
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
            {
                throw new RunStoreException($"PostgreSQL address '{Hide(address)}': option '{key}={value}' is not valid: {e.Message}", e);
            }
        }
        if (string.IsNullOrEmpty(builder.Host)) throw new RunStoreException($"PostgreSQL address '{Hide(address)}' names no host");
        return builder;
    }

    /// <summary>The address of <paramref name="builder"/> for messages: no password.</summary>
    public static string Redacted(NpgsqlConnectionStringBuilder builder) =>
        string.Create(CultureInfo.InvariantCulture, $"postgres://{(builder.Username is { } u ? u + "@" : "")}{builder.Host}:{builder.Port}/{builder.Database}");

    /// <summary>The address with its password replaced by <c>***</c>.</summary>
    static string Hide(string address)
    {
        int at = address.IndexOf('@');
        int scheme = address.IndexOf("://", StringComparison.Ordinal) + 3;
        if (at < 0 || scheme < 3 || at < scheme) return address;
        int colon = address.IndexOf(':', scheme);
        return colon > 0 && colon < at ? address[..(colon + 1)] + "***" + address[at..] : address;
    }
}
