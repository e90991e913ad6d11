using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Ops;

/// <summary>
/// <c>GroupNormalization</c>: normalises each sample over groups of <c>num_groups</c> consecutive channels (and
/// all spatial positions). Opset 18 gives scale and bias per group; opset 21 gives them per channel and adds
/// <c>stash_type</c>, the precision of the normalisation step.
/// </summary>
public sealed class GroupNormalization : OpFamily
{
    /// <inheritdoc />
    public override IReadOnlyList<string> OpTypes => new[] { "GroupNormalization" };

    /// <inheritdoc />
    public override int MinOpset => 18;

    /// <inheritdoc />
    public override void FlowChannels(ChannelFlow flow)
    {
        if (flow.Input(0) != null) flow.Block("GroupNormalization's statistics span the channels of a group");
    }

    /// <inheritdoc />
    public override OpKernel Compile(Node node, CompileContext context)
    {
        double epsilon = node.GetFloat("epsilon", 1e-5f);
        long groups = node.GetInt("num_groups", 0);
        if (groups < 1)
            throw new GraphException($"node '{node.Name}' (GroupNormalization): attribute num_groups must be a positive integer");
        bool perChannel = context.Opset >= 21;
        long stashType = node.GetInt("stash_type", 1);
        ScalarType? stash = null;
        try
        {
            if (perChannel) stash = ((DataType)stashType).ToScalarType();
        }
        catch (NotSupportedException)
        {
            throw new GraphException($"node '{node.Name}' (GroupNormalization): stash_type {stashType} is not a supported element type");
        }
        return Single(inputs =>
        {
            Tensor x = inputs[0]!, scale = inputs[1]!, bias = inputs[2]!;
            long channels = x.dim() >= 2 ? x.shape[1] : 0;
            long expected = perChannel ? channels : groups;
            if (channels == 0 || channels % groups != 0 || scale.numel() != expected || bias.numel() != expected)
                throw new GraphException($"node '{node.Name}' (GroupNormalization): input [{string.Join(",", x.shape)}] needs channels divisible by {groups} groups and scale/bias of {expected} values (opset {context.Opset})");
            if (!perChannel)
            {
                scale = scale.repeat_interleave(channels / groups);
                bias = bias.repeat_interleave(channels / groups);
            }
            if (stash is null || stash == x.dtype)
                return nn.functional.group_norm(x, groups, scale, bias, epsilon);
            Tensor normalized = nn.functional.group_norm(x.to_type(stash.Value), groups, eps: epsilon).to_type(x.dtype);
            var channelShape = new[] { -1L }.Concat(Enumerable.Repeat(1L, (int)x.dim() - 2)).ToArray();
            return normalized * scale.reshape(channelShape) + bias.reshape(channelShape);
        });
    }
}
