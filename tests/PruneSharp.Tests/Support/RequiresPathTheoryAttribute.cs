namespace PruneSharp.Tests.Support;

/// <summary>A theory that is skipped, with the reason shown, when a file or folder it needs (a Debian data package) is absent.</summary>
public sealed class RequiresPathTheoryAttribute : TheoryAttribute
{
    public RequiresPathTheoryAttribute(string path, string package)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
            Skip = $"{path} is absent (apt-get install {package})";
    }
}
