namespace PruneSharp.Tests.Support;

/// <summary>A fact that is skipped, with the reason shown, when a file or folder it needs (a Debian data package) is absent.</summary>
public sealed class RequiresPathFactAttribute : FactAttribute
{
    public RequiresPathFactAttribute(string path, string package)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
            Skip = $"{path} is absent (apt-get install {package})";
    }
}
