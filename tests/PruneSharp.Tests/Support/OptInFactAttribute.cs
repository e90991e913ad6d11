namespace PruneSharp.Tests.Support;

/// <summary>A fact that runs only when an environment variable is set to 1 (slow or file-writing jobs such as regenerating docs).</summary>
public sealed class OptInFactAttribute : FactAttribute
{
    public OptInFactAttribute(string variable)
    {
        if (Environment.GetEnvironmentVariable(variable) != "1")
            Skip = $"opt-in: set {variable}=1 to run";
    }
}
