using PruneSharp.Pipelines;
using System.CommandLine;
using PruneSharp.Data.Inputs;
using static TorchSharp.torch;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>--shape NAME=DxD…</c> and <c>--input NAME=FILE.npy</c>: how the commands that run a model without data (or with
/// data for some of its inputs) make every graph input (<see cref="InputSynthesis"/>).
/// </summary>
sealed class InputFlags(bool legacyShapeAlias = false)
{
    public Option<string[]> Shape { get; } = new("--shape", legacyShapeAlias ? new[] { "--input-shape" } : Array.Empty<string>())
    {
        Description = "Shape of an input, NAME=DxDx... (repeatable; e.g. input_ids=1x128): its symbolic dimensions set the same dimensions of the other inputs. " +
            "Otherwise a symbolic batch is 1 and a symbolic sequence 128 (at most the position table's rows).",
        AllowMultipleArgumentsPerToken = true,
    };

    public Option<string[]> Input { get; } = new("--input")
    {
        Description = "A tensor for an input: NAME=FILE.npy, or FILE.npz (its arrays by name) (repeatable). Other inputs are synthesised from the graph: " +
            "ids index their embedding table's rows, masks are ones, floats standard normal.",
        AllowMultipleArgumentsPerToken = true,
    };

    public IEnumerable<Option> All => new Option[] { Shape, Input };

    /// <summary>The synthesis options the flags give, with <paramref name="batch"/> for a symbolic batch nothing else sets.</summary>
    public InputSynthesisOptions Options(ParseResult parse, long batch = 1, long? sequence = null) => new()
    {
        Shapes = InputShapes.Parse(parse.GetValue(Shape) ?? Array.Empty<string>()),
        Given = Sources.GivenInputs(parse.GetValue(Input) ?? Array.Empty<string>()),
        BatchSize = batch,
        SequenceLength = sequence,
    };

    /// <summary>True if an input shape or tensor is given.</summary>
    public bool AnyGiven(ParseResult parse) => parse.GetValue(Shape) is { Length: > 0 } || parse.GetValue(Input) is { Length: > 0 };
}
