using PruneSharp.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Data.Inputs;

/// <summary>Settings of <see cref="InputSynthesis.Plan"/>.</summary>
public sealed record InputSynthesisOptions
{
    /// <summary>Shapes of inputs by name (<c>--shape input_ids=1x128</c>); their symbolic dimensions bind the same symbols of the other inputs.</summary>
    public IReadOnlyDictionary<string, long[]> Shapes { get; init; } = new Dictionary<string, long[]>();

    /// <summary>Tensors given for inputs by name (from files or data); fed as they are, their sizes bind the symbols of the other inputs.</summary>
    public IReadOnlyDictionary<string, Tensor> Given { get; init; } = new Dictionary<string, Tensor>();

    /// <summary>Size of a symbolic first dimension that nothing else sets.</summary>
    public long BatchSize { get; init; } = 1;

    /// <summary>
    /// Size of a later symbolic dimension that nothing else sets; null for <see cref="InputSynthesis.DefaultSequenceLength"/>,
    /// capped at the rows of the graph's position table (<see cref="InputSynthesis.LongestSequence"/>).
    /// </summary>
    public long? SequenceLength { get; init; }

    /// <summary>Integer inputs that index no table are drawn from [<see cref="IntLow"/>, <see cref="IntHigh"/>).</summary>
    public long IntLow { get; init; }

    /// <summary>Integer inputs that index no table are drawn from [<see cref="IntLow"/>, <see cref="IntHigh"/>).</summary>
    public long IntHigh { get; init; } = 100;
}

/// <summary>One graph input as it will be fed: its shape and how its values are drawn, or the tensor given for it.</summary>
/// <param name="Name">The input's name.</param>
/// <param name="ElementType">Its element type.</param>
/// <param name="Shape">The shape fed.</param>
/// <param name="Values">How synthesised values are drawn (the given tensor's origin when <paramref name="Given"/> is set).</param>
/// <param name="Given">The tensor given for it, or null when it is synthesised.</param>
public sealed record InputPlan(string Name, DataType ElementType, long[] Shape, InputValues Values, Tensor? Given = null);

/// <summary>
/// Valid example inputs for every input of a graph, read from the graph itself: shapes from the declared ones, with
/// symbolic dimensions set by the user, by given tensors, or by defaults (batch 1, sequence 128 capped at the position
/// table); values from how the graph uses each input. An integer input that indexes (possibly through Cast, Unsqueeze,
/// Reshape, …) a constant table of k rows with Gather draws from [0, k) — token ids from the vocabulary, token type ids
/// from a 2-row table; an input named or used as a mask (it feeds Sub, Mul, Equal or Where, the attention-mask
/// arithmetic) is all ones; floats are standard normal.
/// </summary>
public static class InputSynthesis
{
    /// <summary>The default length of a symbolic sequence dimension.</summary>
    public const long DefaultSequenceLength = 128;

    /// <summary>Ops through which an input keeps its meaning (the values move or change type, but stay the same ids or mask).</summary>
    static readonly HashSet<string> Transparent = new(StringComparer.Ordinal)
    {
        "Cast", "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Identity", "Expand", "Transpose", "Slice", "Concat", "Tile",
    };

    /// <summary>Ops whose use of an input is mask arithmetic: <c>(1 - mask) * -10000</c>, <c>mask == 0</c>, <c>Where(mask, …)</c>.</summary>
    static readonly HashSet<string> MaskArithmetic = new(StringComparer.Ordinal) { "Sub", "Mul", "Equal", "Where", "Not", "And", "Or" };

    /// <summary>The shape and values of every input of <paramref name="graph"/>, in the graph's input order.</summary>
    /// <exception cref="ArgumentException">A shape or tensor is given for a name that is not an input, has the wrong rank,
    /// an input has no declared shape and none is given, or sizes disagree on a symbolic dimension.</exception>
    public static IReadOnlyList<InputPlan> Plan(Graph.Graph graph, InputSynthesisOptions options)
    {
        foreach (string name in options.Shapes.Keys.Concat(options.Given.Keys))
            if (graph.Inputs.All(i => i.Name != name))
                throw new ArgumentException($"'{name}' is not an input of the model (inputs: {string.Join(", ", graph.Inputs.Select(i => i.Name))})");
        var symbols = new Dictionary<string, long>(StringComparer.Ordinal);
        var fixedShapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs)
        {
            long[]? shape = options.Given.TryGetValue(input.Name, out var given) ? given.shape
                : options.Shapes.TryGetValue(input.Name, out var s) ? s : null;
            if (shape is null) continue;
            if (shape.Any(d => d < 0)) throw new ArgumentException($"input '{input.Name}': shape {string.Join("x", shape)} has a negative dimension");
            if (input.Shape is { } declared)
            {
                if (declared.Count != shape.Length)
                    throw new ArgumentException($"input '{input.Name}' has rank {declared.Count} ({string.Join("x", declared)}), but the given shape {string.Join("x", shape)} has rank {shape.Length}");
                for (int d = 0; d < shape.Length; d++)
                    if (declared[d].Size is null && declared[d].Symbol is { } symbol) Bind(symbols, symbol, shape[d], input.Name);
            }
            fixedShapes[input.Name] = shape;
        }
        long sequence = options.SequenceLength ?? Math.Min(DefaultSequenceLength, LongestSequence(graph) ?? DefaultSequenceLength);
        var plans = new List<InputPlan>();
        foreach (var input in graph.Inputs)
        {
            long[] shape = fixedShapes.TryGetValue(input.Name, out var f) ? f
                : input.Shape?.Select((d, i) => d.Size ?? (d.Symbol is { } symbol && symbols.TryGetValue(symbol, out long bound) ? bound
                    : Bind(symbols, d.Symbol, i == 0 ? options.BatchSize : sequence, input.Name))).ToArray()
                ?? throw new ArgumentException($"input '{input.Name}' has no declared shape; give one with --shape {input.Name}=DxD...");
            var values = options.Given.ContainsKey(input.Name) ? new InputValues(InputValueKind.Normal, 0, 0, "given")
                : Infer(graph, input, options.IntLow, options.IntHigh);
            var fed = options.Given.GetValueOrDefault(input.Name);
            if (fed is not null && input.ElementType is DataType.Float or DataType.Double or DataType.Int64 or DataType.Int32 or DataType.Bool
                && ScalarTypeOf(input.Name, input.ElementType) is var type && fed.dtype != type)
                fed = fed.to_type(type);
            plans.Add(new InputPlan(input.Name, input.ElementType, shape, values, fed));
        }
        return plans;
    }

    static long Bind(Dictionary<string, long> symbols, string? symbol, long size, string input)
    {
        if (symbol is null) return size;
        if (symbols.TryGetValue(symbol, out long bound) && bound != size)
            throw new ArgumentException($"input '{input}': dimension '{symbol}' is {size} here but {bound} in another input");
        symbols[symbol] = size;
        return size;
    }

    /// <summary>
    /// The tensors of <paramref name="plans"/>: given ones as they are, the others drawn from <paramref name="generator"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An input's element type cannot be synthesised (strings, half precision, …).</exception>
    public static Tensor[] Generate(IReadOnlyList<InputPlan> plans, Generator generator)
    {
        Engine.MemoryGuard.Check(plans.Where(p => p.Given is null).Select(p => (p.Name, (IReadOnlyList<long>)p.Shape, ScalarTypeOf(p))));
        return plans.Select(p => p.Given ?? Draw(p, generator)).ToArray();
    }

    /// <summary><see cref="Plan"/> then <see cref="Generate"/> with a generator seeded by <paramref name="seed"/>.</summary>
    public static Tensor[] Synthesize(Graph.Graph graph, InputSynthesisOptions options, long seed = 0)
    {
        using var generator = new Generator((ulong)seed);
        return Generate(Plan(graph, options), generator);
    }

    static ScalarType ScalarTypeOf(InputPlan plan) => ScalarTypeOf(plan.Name, plan.ElementType);

    static ScalarType ScalarTypeOf(string name, DataType elementType) => elementType switch
    {
        DataType.Float or DataType.Undefined => float32,
        DataType.Double => float64,
        DataType.Int64 => int64,
        DataType.Int32 => int32,
        DataType.Bool => @bool,
        var other => throw new ArgumentException($"input '{name}' is {other}; inputs are synthesised for float, double, int64, int32 and bool; give it with --input {name}=FILE.npy"),
    };

    static Tensor Draw(InputPlan plan, Generator generator)
    {
        var type = ScalarTypeOf(plan);
        return plan.Values.Kind switch
        {
            InputValueKind.Ones => ones(plan.Shape, type),
            InputValueKind.Bits => rand(plan.Shape, generator: generator) < 0.5,
            InputValueKind.Integers => randint(plan.Values.Low, plan.Values.High, plan.Shape, type, generator: generator),
            _ => randn(plan.Shape, type, generator: generator),
        };
    }

    /// <summary>How the values of <paramref name="input"/> are drawn, read from how <paramref name="graph"/> uses it.</summary>
    /// <param name="graph">The graph.</param>
    /// <param name="input">One of its inputs.</param>
    /// <param name="intLow">Integers that index no table: the lowest value.</param>
    /// <param name="intHigh">Integers that index no table: one past the highest value.</param>
    public static InputValues Infer(Graph.Graph graph, ValueInfo input, long intLow = 0, long intHigh = 100)
    {
        var readers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (string name in node.Inputs.Distinct())
                (readers.TryGetValue(name, out var list) ? list : readers[name] = new List<Node>()).Add(node);
        var reached = new HashSet<string>(StringComparer.Ordinal) { input.Name };
        var pending = new Queue<string>(reached);
        (long Rows, string Table)? table = null;
        string? maskUse = null;
        while (pending.Count > 0)
        {
            string value = pending.Dequeue();
            foreach (var node in readers.GetValueOrDefault(value) ?? new List<Node>())
            {
                if (node.OpType == "Gather" && node.Inputs.Count == 2 && node.Inputs[1] == value && graph.ConstantValue(node.Inputs[0]) is { } constant)
                {
                    long axis = node.GetInt("axis", 0);
                    long rows = constant.shape[(int)(axis < 0 ? axis + constant.dim() : axis)];
                    if (table is null || rows < table.Value.Rows) table = (rows, node.Inputs[0]);
                }
                else if (Transparent.Contains(node.OpType) && (node.Inputs[0] == value || node.OpType == "Concat"))
                {
                    foreach (string output in node.Outputs)
                        if (reached.Add(output)) pending.Enqueue(output);
                }
                else if (MaskArithmetic.Contains(node.OpType)) maskUse ??= node.OpType;
            }
        }
        bool integer = input.ElementType is DataType.Int64 or DataType.Int32;
        if (integer && table is { } t)
            return new InputValues(InputValueKind.Integers, 0, t.Rows, $"indexes the {t.Rows}-row table '{t.Table}'");
        if (input.Name.Contains("mask", StringComparison.OrdinalIgnoreCase))
            return new InputValues(InputValueKind.Ones, 1, 1, "named as a mask: all positions attended");
        if (maskUse is not null && input.ElementType != DataType.Float && input.ElementType != DataType.Double)
            return new InputValues(InputValueKind.Ones, 1, 1, $"feeds mask arithmetic ({maskUse}): all positions attended");
        return input.ElementType switch
        {
            DataType.Int64 or DataType.Int32 => new InputValues(InputValueKind.Integers, intLow, intHigh, $"indexes no table: drawn from [{intLow}, {intHigh})"),
            DataType.Bool => new InputValues(InputValueKind.Bits, 0, 2, "random booleans"),
            _ => new InputValues(InputValueKind.Normal, 0, 0, "standard normal"),
        };
    }

    /// <summary>
    /// The longest sequence the graph's position table holds: the fewest rows of a constant float table that is read
    /// by <c>Slice</c>, or by <c>Gather</c> with indices that do not come from a graph input (positions the graph makes
    /// itself); null if there is none.
    /// </summary>
    public static long? LongestSequence(Graph.Graph graph)
    {
        var fromInputs = new HashSet<string>(graph.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        foreach (var node in graph.TopologicalOrder())
            if (node.Inputs.Any(fromInputs.Contains) && node.OpType != "Shape")
                fromInputs.UnionWith(node.Outputs);
        long? longest = null;
        foreach (var node in graph.Nodes)
        {
            if (node.Inputs.Count < 2 || !graph.Initializers.TryGetValue(node.Inputs[0], out var table)) continue;
            if (table.dim() != 2 || !table.is_floating_point()) continue;
            bool positions = node.OpType == "Slice" || (node.OpType == "Gather" && node.GetInt("axis", 0) == 0 && !fromInputs.Contains(node.Inputs[1]));
            if (positions && (longest is null || table.shape[0] < longest)) longest = table.shape[0];
        }
        return longest;
    }
}
