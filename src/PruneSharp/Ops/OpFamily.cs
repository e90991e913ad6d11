using PruneSharp.Graph;
using TorchSharp;

namespace PruneSharp.Ops;

/// <summary>
/// Runs one node. Inputs are in the node's order, null where an optional input is omitted.
/// <paramref name="training"/> is the module's training flag (BatchNorm statistics, Dropout).
/// </summary>
public delegate torch.Tensor[] OpKernel(torch.Tensor?[] inputs, bool training);

/// <summary>
/// One family of ops (e.g. the element-wise binary ops, or Conv): knows which op types it handles, how to
/// turn a node into a kernel, and which of its inputs hold state rather than trainable weights.
/// Adding an op is one small class registered in <see cref="OpRegistry"/>.
/// </summary>
public abstract class OpFamily
{
    /// <summary>The ONNX op types this family handles (default domain).</summary>
    public abstract IReadOnlyList<string> OpTypes { get; }

    /// <summary>The oldest default-domain opset whose semantics this family implements.</summary>
    public virtual int MinOpset => 7;

    /// <summary>
    /// Turns <paramref name="node"/> into a kernel, reading attributes once. Throws <see cref="GraphException"/>
    /// for attributes or constant inputs it cannot honour, naming the node.
    /// </summary>
    public abstract OpKernel Compile(Node node, CompileContext context);

    /// <summary>
    /// True if input <paramref name="index"/> of <paramref name="node"/> is state, not a trainable weight
    /// (e.g. BatchNorm's running mean and variance): a float initializer there becomes a buffer.
    /// </summary>
    public virtual bool IsStateInput(Node node, int index) => false;

    /// <summary>
    /// Says how channels flow through <paramref name="flow"/>'s node (structured pruning follows this). The default
    /// blocks: channels that reach an op without a rule are never removed.
    /// </summary>
    public virtual void FlowChannels(ChannelFlow flow) => flow.Block($"op {flow.Node.OpType} has no channel rule");

    /// <summary>
    /// Returns the node to use after channels were removed (e.g. Conv's <c>group</c> follows a depthwise layer's new
    /// width). The default keeps the node as it is.
    /// </summary>
    public virtual Node Rewire(Node node, RewireContext context) => node;

    /// <summary>
    /// Attributes that ONNX defines for these ops and that <see cref="Compile"/> does not read because they do not
    /// change what the family computes (e.g. Dropout's <c>seed</c> at inference). Every other attribute of a node must
    /// be one that <see cref="Compile"/> reads: <see cref="GraphValidation"/> refuses the rest as unknown (a misspelling).
    /// </summary>
    public virtual IReadOnlySet<string> UnreadAttributes => EmptyNames;

    static readonly IReadOnlySet<string> EmptyNames = new HashSet<string>();

    /// <summary>A kernel with one output.</summary>
    protected static OpKernel Single(Func<torch.Tensor?[], torch.Tensor> run) => (inputs, _) => new[] { run(inputs) };
}

/// <summary>What a family may know about the graph while compiling a node.</summary>
public sealed class CompileContext
{
    readonly Func<string, torch.Tensor?> _constant;
    readonly Func<string, ValueInfo?> _info;

    /// <summary>Creates a context.</summary>
    public CompileContext(int opset, Func<string, torch.Tensor?> constant, Func<string, ValueInfo?> info)
    {
        Opset = opset;
        _constant = constant;
        _info = info;
    }

    /// <summary>The graph's default-domain opset.</summary>
    public int Opset { get; }

    /// <summary>The value of a constant (non-trainable) input, or null if it is computed at run time or trainable.</summary>
    public torch.Tensor? Constant(string valueName) => valueName.Length == 0 ? null : _constant(valueName);

    /// <summary>The known type and shape of a value, or null.</summary>
    public ValueInfo? Info(string valueName) => _info(valueName);
}
