namespace PruneSharp.Runs;

/// <summary>The run store cannot be opened or read, or holds something unexpected; the message names the store and the problem.</summary>
public sealed class RunStoreException : Exception
{
    /// <summary>Creates the exception with its message.</summary>
    public RunStoreException(string message) : base(message) { }

    /// <summary>Creates the exception with its message and cause.</summary>
    public RunStoreException(string message, Exception inner) : base(message, inner) { }
}
