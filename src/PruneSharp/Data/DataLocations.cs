namespace PruneSharp.Data;

/// <summary>Where data sets are looked for when no folder is given.</summary>
public static class DataLocations
{
    /// <summary>Environment variable naming a root folder with one sub-folder per data set.</summary>
    public const string RootVariable = "PRUNESHARP_DATA";

    /// <summary>Debian's <c>dataset-fashion-mnist</c> package puts the gzipped IDX files here.</summary>
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>Name (sub-folder) of Fashion-MNIST.</summary>
    public const string FashionMnist = "fashion-mnist";

    /// <summary>Name (sub-folder) of MNIST.</summary>
    public const string Mnist = "mnist";

    /// <summary>Name (sub-folder) of CIFAR-10 (the binary version).</summary>
    public const string Cifar10 = "cifar-10";

    /// <summary>Name (sub-folder) of CIFAR-100 (the binary version).</summary>
    public const string Cifar100 = "cifar-100";

    /// <summary>Debian packages that install a data set into <c>/usr/share/datasets/&lt;name&gt;</c>, by data set name.</summary>
    public static IReadOnlyDictionary<string, string> DebianPackages { get; } = new Dictionary<string, string>
    {
        [FashionMnist] = "dataset-fashion-mnist",
    };

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

    /// <summary>
    /// The first folder of <see cref="SearchPath"/> that holds <paramref name="probe"/> (plain or <c>.gz</c>).
    /// </summary>
    /// <exception cref="DataNotFoundException">No searched folder holds it; the message lists the folders.</exception>
    public static string Find(string name, string probe)
    {
        var folders = SearchPath(name);
        foreach (string folder in folders)
            if (File.Exists(Path.Combine(folder, probe)) || File.Exists(Path.Combine(folder, probe + ".gz")))
                return folder;
        string package = DebianPackages.TryGetValue(name, out string? p) ? $", or install Debian's {p} package (apt-get install {p})" : "";
        throw new DataNotFoundException(name,
            $"data set not found: no '{probe}(.gz)' in {string.Join(", ", folders)}; pass a folder or set {RootVariable}{package}");
    }
}
