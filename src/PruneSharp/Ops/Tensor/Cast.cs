using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>Cast</c> (to the element type named by <c>to</c>) and <c>CastLike</c> (to the second input's type).
/// Floats become integers by truncation toward zero, and any non-zero becomes true.
/// </summary>
public sealed class Cast : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "Cast", "CastLike" };

    /// <inheritdoc />
    public override int MinOpset => 6;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow) => ChannelRules.PassThrough(flow);

    /// <inheritdoc />
    public override IReadOnlySet<string> UnreadAttributes { get; } = new HashSet<string> { "saturate" };

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        if (node.OpType == "CastLike")
            return Single(inputs => inputs[0]!.to_type(inputs[1]!.dtype));
        long to = node.GetInt("to", 0);
        ScalarType target;
        try
        {
            target = ((DataType)to).ToScalarType();
        }
        catch (NotSupportedException)
        {
            throw OpArgs.Error(node, $"cannot cast to element type {(Enum.IsDefined(typeof(DataType), (int)to) ? ((DataType)to).ToString() : to.ToString())}");
        }
        return Single(inputs => inputs[0]!.to_type(target));
    }
}
