using System.CommandLine;
using PruneSharp.Runs;

namespace PruneSharp.Cli.Commands;

/// <summary><c>--store</c> and <c>--no-store</c>: the run store a verb records its run in, opened here and handed to the library.</summary>
sealed class StoreFlags
{
    /// <summary>The store option's text, shared by the verbs that write runs and those that read them.</summary>
    public const string Help = "Run store: an SQLite file or postgres://user:password@host:port/database";

    public Option<string> Store { get; } = new("--store") { Description = Help + $" to record this run in (default: {RunStores.DefaultPath} in the current folder).", DefaultValueFactory = _ => RunStores.DefaultPath };

    public Option<bool> NoStore { get; } = new("--no-store") { Description = "Do not record this run." };

    public IEnumerable<Option> All => [Store, NoStore];

    /// <summary>Whether this invocation records its run.</summary>
    public bool Records(ParseResult parse) => !parse.GetValue(NoStore);

    /// <summary>Opens the store (null with <c>--no-store</c>); the caller disposes it.</summary>
    public IRunStore? Open(ParseResult parse) => Records(parse) ? RunStores.Open(parse.GetValue(Store)!) : null;
}
