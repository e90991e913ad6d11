namespace PruneSharp.Tests.Support;

/// <summary>
/// Tests that need libtorch's process-wide state (the default generator, the thread count) to themselves:
/// they run after the parallel tests, one at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial: process-wide libtorch state";
}
