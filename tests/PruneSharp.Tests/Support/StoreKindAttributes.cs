using System.Reflection;
using Xunit.Sdk;

namespace PruneSharp.Tests.Support;

/// <summary>Runs a theory against the SQLite run store (argument <c>"sqlite"</c>).</summary>
public sealed class SqliteStoreAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [["sqlite"]];
}

/// <summary>Runs a theory against the PostgreSQL run store (argument <c>"postgres"</c>); skipped, with the reason, where no cluster can start.</summary>
public sealed class PostgresStoreAttribute : DataAttribute
{
    public PostgresStoreAttribute()
    {
        if (PostgresCluster.Unavailable is { } why) Skip = why;
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [["postgres"]];
}
