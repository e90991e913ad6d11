namespace PruneSharp.Onnx.Opsets;

/// <summary>
/// Default-domain ops whose versions between opset <see cref="OpsetConversion.Oldest"/> and
/// <see cref="OpsetConversion.Target"/> differ only in what later versions add (more element types, multidirectional
/// broadcasting, negative axes, optional inputs, new attributes whose defaults keep the old behaviour), so that a node
/// written for an older opset means the same at the target opset. Each op maps to the first opset at which it exists
/// in that form (7 when it predates the oldest opset read). An op that is neither here nor handled by an
/// <see cref="OpsetAdapter"/> is refused by name at an old opset rather than passed on unchecked.
/// </summary>
static class UnchangedOps
{
    /// <summary>The opset an op first exists at with its target-opset meaning, or null if it is not listed.</summary>
    public static int? Since(string opType) => Ops.TryGetValue(opType, out int since) ? since : null;

    static readonly Dictionary<string, int> Ops = new(StringComparer.Ordinal)
    {
        // Element-wise arithmetic and activations (broadcasting from opset 7; later versions add types).
        ["Abs"] = 7, ["Add"] = 7, ["Sub"] = 7, ["Mul"] = 7, ["Div"] = 7, ["Pow"] = 7, ["Neg"] = 7, ["Reciprocal"] = 7,
        ["Exp"] = 7, ["Log"] = 7, ["Sqrt"] = 7, ["Floor"] = 7, ["Ceil"] = 7, ["Relu"] = 7, ["LeakyRelu"] = 7,
        ["Sigmoid"] = 7, ["HardSigmoid"] = 7, ["Tanh"] = 7, ["Elu"] = 7, ["Selu"] = 7, ["Softplus"] = 7, ["Softsign"] = 7,
        ["PRelu"] = 7, ["Sin"] = 7, ["Cos"] = 7, ["Tan"] = 7, ["Asin"] = 7, ["Acos"] = 7, ["Atan"] = 7,
        ["Sinh"] = 9, ["Cosh"] = 9, ["Asinh"] = 9, ["Acosh"] = 9, ["Atanh"] = 9, ["Erf"] = 9, ["Sign"] = 9, ["Shrink"] = 9,
        ["IsNaN"] = 9, ["IsInf"] = 10, ["Mod"] = 10, ["ThresholdedRelu"] = 10,
        // Variadic ops: multidirectional broadcasting from opset 8 extends the same-shape form of opset 6.
        ["Sum"] = 7, ["Mean"] = 7, ["Max"] = 7, ["Min"] = 7,
        // Logic and comparison.
        ["And"] = 7, ["Or"] = 7, ["Xor"] = 7, ["Not"] = 7, ["Equal"] = 7, ["Greater"] = 7, ["Less"] = 7, ["Where"] = 9,
        // Layers and normalisation (pools gain ceil_mode and dilations at 10, MaxPool its Indices output at 8, all defaulting to the old behaviour).
        ["Conv"] = 7, ["ConvTranspose"] = 7, ["Gemm"] = 7, ["MatMul"] = 7, ["MaxPool"] = 7, ["AveragePool"] = 7,
        ["GlobalAveragePool"] = 7, ["GlobalMaxPool"] = 7, ["GlobalLpPool"] = 7, ["LpPool"] = 7, ["MaxUnpool"] = 9,
        ["LRN"] = 7, ["InstanceNormalization"] = 7, ["LpNormalization"] = 7, ["MeanVarianceNormalization"] = 9,
        // Softmax-family ops coerce to 2-D up to opset 12 alike; opset 11 adds negative axes.
        ["Softmax"] = 7, ["LogSoftmax"] = 7, ["Hardmax"] = 7,
        // Reductions (axes attribute up to opset 12/17).
        ["ReduceMax"] = 7, ["ReduceMin"] = 7, ["ReduceMean"] = 7, ["ReduceSum"] = 7, ["ReduceProd"] = 7, ["ReduceLogSum"] = 7,
        ["ReduceLogSumExp"] = 7, ["ReduceSumSquare"] = 7, ["ReduceL1"] = 7, ["ReduceL2"] = 7, ["ArgMax"] = 7, ["ArgMin"] = 7,
        // Tensor manipulation (Reshape takes its shape as an input from opset 5; Cast's 'to' is an integer from opset 6).
        ["Identity"] = 7, ["Reshape"] = 7, ["Flatten"] = 7, ["Transpose"] = 7, ["Squeeze"] = 7, ["Unsqueeze"] = 7,
        ["Concat"] = 7, ["Split"] = 7, ["Gather"] = 7, ["Tile"] = 7, ["Shape"] = 7, ["Size"] = 7, ["Cast"] = 7,
        ["Constant"] = 7, ["DepthToSpace"] = 7, ["SpaceToDepth"] = 7, ["Expand"] = 8, ["ConstantOfShape"] = 9,
        ["NonZero"] = 9, ["OneHot"] = 9, ["Compress"] = 9, ["EyeLike"] = 9,
        // Random generators.
        ["RandomNormal"] = 7, ["RandomUniform"] = 7, ["RandomNormalLike"] = 7, ["RandomUniformLike"] = 7, ["Multinomial"] = 7,
    };
}
