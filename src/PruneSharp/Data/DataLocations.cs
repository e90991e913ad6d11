namespace PruneSharp.Data;

/// <summary>Where data sets are looked for when no folder is given.</summary>
public static class DataLocations
{
    /// <summary>Environment variable naming a root folder with one sub-folder per data set.</summary>
    public const string RootVariable = "PRUNESHARP_DATA";

    /// <summary>Debian's <c>dataset-fashion-mnist</c> package puts the gzipped IDX files here.</summary>
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>Folders searched, in order, for the data set <paramref name="name"/> (e.g. <c>fashion-mnist</c>).</summary>
    public static IReadOnlyList<string> SearchPath(string name)
    {
        var folders = new List<string>();
        if (Environment.GetEnvironmentVariable(RootVariable) is { Length: > 0 } root)
            folders.Add(Path.Combine(root, name));
        folders.Add(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".prunesharp", "data", name));
        folders.Add(Path.Combine("/usr/share/datasets", name));
        return folders;
    }
}
