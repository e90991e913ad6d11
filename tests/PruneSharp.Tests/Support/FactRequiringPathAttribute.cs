namespace PruneSharp.Tests.Support;

/// <summary>A fact that is skipped, with the reason shown, when a data file or folder it needs is absent.</summary>
public sealed class FactRequiringPathAttribute : FactAttribute
{
    public FactRequiringPathAttribute(string path, string package)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
            Skip = $"{path} is absent (apt-get install {package})";
    }
}
