namespace PruneSharp.Tests.Support;

/// <summary>The repository the tests were built from.</summary>
public static class Repository
{
    /// <summary>The folder holding PruneSharp.sln, above the test binaries.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PruneSharp.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (PruneSharp.sln) is not above the test binaries");
    }
}
