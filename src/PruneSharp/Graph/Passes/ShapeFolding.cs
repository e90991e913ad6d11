using PruneSharp.Data.Inputs;
using PruneSharp.Ops;
using static TorchSharp.torch;

namespace PruneSharp.Graph.Passes;

/// <summary>
/// Folds shape arithmetic that feeds <c>Reshape</c> (exporters' <c>Shape → Gather → Unsqueeze → Concat</c> chains for
/// <c>x.view(x.size(0), -1)</c>, <c>Shape → Slice → Concat</c> for <c>x.view(x.size()[:-1] + (heads, size))</c>) into
/// a constant shape initializer, so that the graph's structure shows what the reshape does (which channel-dependency
/// analysis and pruning surgery need), while the graph's symbolic dimensions (batch, sequence) stay free.
/// <para>
/// The chain is evaluated by running the graph twice, with different values for every symbolic input dimension
/// (inputs made by <see cref="InputSynthesis"/>: float inputs get random values, an integer input that indexes an
/// embedding table gets indices into it, a mask and any other integer input ones). An entry equal in both runs becomes that constant; an entry
/// that varies as the reshaped input's dimension at that index does becomes 0 (copy the input's dimension); one
/// remaining entry that varies becomes -1. A fold is applied only when the new shape gives exactly the original
/// shape in both runs. Slice bounds computed from shapes (exporters' <c>chunk</c>) become constants when both runs
/// computed the same values, and so does shape arithmetic that the model's values read (a scale computed from a
/// width). Nodes left without readers by a fold are removed.
/// </para>
/// </summary>
public static class ShapeFolding
{
    const long MaxFoldedValues = 16;
    /// <summary>The values of the first, second, … symbolic dimension in the two runs (distinct, so an entry that follows one is told apart).</summary>
    static readonly long[][] SymbolValues = { new long[] { 2, 5, 11, 13, 17 }, new long[] { 3, 7, 19, 23, 29 } };

    /// <summary>Folds what it can prove in <paramref name="graph"/>, in place, and returns how many values were folded.</summary>
    public static int Apply(Graph graph, OpRegistry? registry = null)
    {
        var origins = Origins(graph);
        bool shapeOnly(string value) => origins(value) is { FromShapes: true };
        var candidates = graph.Nodes.Where(n => n.OpType == "Reshape" && n.Inputs.Count == 2 && shapeOnly(n.Inputs[1])).ToList();
        var bounds = graph.Opset < 10 ? new List<(Node Node, int Index)>() : graph.Nodes.Where(n => n.OpType == "Slice")
            .SelectMany(n => Enumerable.Range(1, n.Inputs.Count - 1).Select(i => (Node: n, Index: i)))
            .Where(b => b.Node.Inputs[b.Index].Length > 0 && shapeOnly(b.Node.Inputs[b.Index])).ToList();
        // Shape arithmetic that flows into the model's values (an attention scale (C / heads)^-½ computed from a width);
        // never a computation that reads a weight (folding it would freeze the weight).
        var mixed = graph.Nodes.Where(n => n.OpType is not ("Reshape" or "Slice") && n.Outputs.Count > 0 && n.Outputs[0].Length > 0 && !shapeOnly(n.Outputs[0]))
            .SelectMany(n => Enumerable.Range(0, n.Inputs.Count).Select(i => (Node: n, Index: i)))
            .Where(m => m.Node.Inputs[m.Index].Length > 0 && origins(m.Node.Inputs[m.Index]) is { FromShapes: true, ReadsShape: true, ReadsWeight: false }).ToList();
        // Expands to a computed shape that only broadcasting ops read, directly or through element-wise casts
        // (DistilBERT's masked_fill(mask.expand_as(scores))): the readers broadcast the unexpanded value the same way,
        // and the target, read from the scores, would tie the mask to the heads.
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        var readersOf = graph.Nodes.SelectMany(n => n.Inputs.Where(i => i.Length > 0).Distinct().Select(i => (Value: i, Node: n))).ToLookup(r => r.Value, r => r.Node);
        List<(Node Reader, string Value)>? BroadcastReaders(string value)
        {
            if (graphOutputs.Contains(value) || !readersOf[value].Any()) return null;
            var leaves = new List<(Node, string)>();
            foreach (var reader in readersOf[value])
            {
                if (reader.Domain is not ("" or "ai.onnx")) return null;
                if (Broadcasting.Contains(reader.OpType)) leaves.Add((reader, value));
                else if (reader.OpType is "Cast" or "Not" or "Neg" or "Identity" && BroadcastReaders(reader.Outputs[0]) is { } further) leaves.AddRange(further);
                else return null;
            }
            return leaves;
        }
        var expands = graph.Nodes.Where(n => n.OpType == "Expand" && n.Inputs.Count == 2 && shapeOnly(n.Inputs[1]))
            .Select(n => (Node: n, Leaves: BroadcastReaders(n.Outputs[0]))).Where(e => e.Leaves != null).Select(e => (e.Node, Leaves: e.Leaves!)).ToList();
        if (candidates.Count + bounds.Count + mixed.Count + expands.Count == 0 || Symbols(graph) is not { } symbols) return 0;

        var capture = candidates.SelectMany(n => n.Inputs).Concat(bounds.Concat(mixed).Select(b => b.Node.Inputs[b.Index]))
            .Concat(expands.SelectMany(e => e.Leaves.SelectMany(l => l.Reader.Inputs.Append(l.Reader.Outputs[0])).Append(e.Node.Inputs[0])))
            .Where(v => v.Length > 0).Distinct().ToList();
        var first = Capture(graph, registry, symbols, SymbolValues[0], capture);
        var second = Capture(graph, registry, symbols, SymbolValues[1], capture);
        if (first == null || second == null) return 0;

        var deadBefore = Unread(graph);
        int folded = 0;
        string Fresh(string name)
        {
            string fresh = name;
            for (int k = 1; graph.Initializers.ContainsKey(fresh); k++) fresh = $"{name}_{k}";
            return fresh;
        }
        foreach (var reshape in candidates)
        {
            if (reshape.GetInt("allowzero", 0) != 0) continue;
            long[]? shape = Fold(first[reshape.Inputs[0]].shape, first[reshape.Inputs[1]], second[reshape.Inputs[0]].shape, second[reshape.Inputs[1]]);
            if (shape == null) continue;
            string name = Fresh($"{reshape.Name}.folded_shape");
            graph.Initializers[name] = tensor(shape);
            reshape.Inputs[1] = name;
            folded++;
        }
        // Slice bounds (e.g. the halves of a channel split) and shape arithmetic read by the model's values: folded
        // where both runs computed the same values.
        foreach (var (node, index) in bounds.Concat(mixed))
        {
            Tensor a = first[node.Inputs[index]], b = second[node.Inputs[index]];
            // Arithmetic read by values: only a few numbers (a scale), not tensors such as attention masks built from
            // shapes, which would become weights.
            if ((node.OpType == "Slice" ? a.dtype != ScalarType.Int64 : a.numel() > MaxFoldedValues)
                || a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape) || !a.equal(b).all().item<bool>()) continue;
            string name = Fresh($"{node.Name}.folded_{index}");
            graph.Initializers[name] = a.clone();
            node.Inputs[index] = name;
            folded++;
        }
        foreach (var (expand, leaves) in expands)
        {
            string expanded = expand.Outputs[0], source = expand.Inputs[0];
            if (!leaves.All(l => BroadcastsAlike(l.Reader, l.Value, first[source].shape, first) && BroadcastsAlike(l.Reader, l.Value, second[source].shape, second))) continue;
            foreach (var reader in readersOf[expanded])
                for (int i = 0; i < reader.Inputs.Count; i++)
                    if (reader.Inputs[i] == expanded) reader.Inputs[i] = source;
            folded++;
        }
        if (folded > 0) RemoveNewlyUnread(graph, deadBefore);
        return folded;
    }

    /// <summary>Element-wise ops with NumPy broadcasting: reading a value or its expansion to their output shape gives the same result.</summary>
    static readonly HashSet<string> Broadcasting = new()
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Where", "And", "Or", "Xor", "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Max", "Min",
    };

    /// <summary>Whether <paramref name="reader"/>'s inputs, with <paramref name="value"/> of shape <paramref name="unexpanded"/>, broadcast to its output's shape in a run.</summary>
    static bool BroadcastsAlike(Node reader, string value, long[] unexpanded, Dictionary<string, Tensor> run)
    {
        if (!run.TryGetValue(reader.Outputs[0], out var output)) return false;
        var shapes = new List<long[]>();
        foreach (string input in reader.Inputs)
        {
            if (input == value) { shapes.Add(unexpanded); continue; }
            if (!run.TryGetValue(input, out var known)) return false;
            shapes.Add(known.shape);
        }
        int rank = shapes.Max(s => s.Length);
        var result = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            long size = 1;
            foreach (var shape in shapes)
            {
                int k = d - (rank - shape.Length);
                if (k < 0 || shape[k] == 1) continue;
                if (size != 1 && size != shape[k]) return false;
                size = shape[k];
            }
            result[d] = size;
        }
        return result.SequenceEqual(output.shape);
    }

    /// <summary>What a computed value is made of: only constants and shapes, whether a shape is among them, whether a weight is.</summary>
    readonly record struct Origin(bool FromShapes, bool ReadsShape, bool ReadsWeight);

    /// <summary>
    /// Classifies computed values, memoised over the graph as it is now: whether a value is computed only from
    /// constants and the shapes (not contents) of values, whether it reads a shape at all, and whether it reads a
    /// weight (a floating-point initializer of more than one element). Constants and graph inputs are not computed.
    /// </summary>
    static Func<string, Origin?> Origins(Graph graph)
    {
        var producers = new Dictionary<string, Node>();
        foreach (var node in graph.Nodes) foreach (string output in node.Outputs) producers[output] = node;
        var known = new Dictionary<string, Origin>();
        Origin Leaf(string value) =>
            value.Length == 0 ? new Origin(true, false, false)
            : graph.Initializers.TryGetValue(value, out var constant) ? new Origin(true, false, constant.is_floating_point() && constant.numel() > 1)
            : known[value];
        bool Decided(string value) => value.Length == 0 || graph.Initializers.ContainsKey(value) || known.ContainsKey(value);
        void Decide(string value)
        {
            // Depth-first over producers with an explicit stack (graphs can be thousands of nodes deep): a value is
            // decided once all the inputs of its producer are.
            var pending = new Stack<string>(new[] { value });
            var visiting = new HashSet<string>();
            while (pending.TryPeek(out string? current))
            {
                if (Decided(current)) { pending.Pop(); continue; }
                if (!producers.TryGetValue(current, out var node)) { known[current] = new Origin(false, false, false); pending.Pop(); continue; } // a graph input's contents
                if (node.OpType == "Shape") { known[current] = new Origin(true, true, false); pending.Pop(); continue; }
                if (node.OpType is "RandomNormal" or "RandomUniform" or "RandomNormalLike" or "RandomUniformLike" or "Multinomial")
                {
                    known[current] = new Origin(false, false, false);
                    pending.Pop();
                    continue;
                }
                var undecided = node.Inputs.Where(i => !Decided(i)).ToList();
                if (undecided.Count > 0 && visiting.Add(current)) { foreach (string input in undecided) pending.Push(input); continue; }
                foreach (string input in undecided) known[input] = new Origin(false, false, false); // only on a cycle (an invalid graph): never folded
                var inputs = node.Inputs.Select(Leaf).ToList();
                known[current] = new Origin(inputs.All(o => o.FromShapes), inputs.Any(o => o.ReadsShape), inputs.Any(o => o.ReadsWeight));
                pending.Pop();
            }
        }
        return value =>
        {
            if (graph.Initializers.ContainsKey(value) || !producers.ContainsKey(value)) return null;
            Decide(value);
            return known[value];
        };
    }

    /// <summary>
    /// The symbolic dimensions of the graph's inputs in order of appearance (an unnamed unknown dimension is a symbol of
    /// its own), or null when an input cannot be made up: no shape, an element type other than float, integer or bool,
    /// or more symbols than <see cref="SymbolValues"/> holds.
    /// </summary>
    static List<string>? Symbols(Graph graph)
    {
        var symbols = new List<string>();
        foreach (var input in graph.Inputs)
        {
            if (input.Shape is null || input.ElementType is not (DataType.Float or DataType.Int64 or DataType.Int32 or DataType.Bool)) return null;
            for (int d = 0; d < input.Shape.Count; d++)
            {
                if (input.Shape[d].Size != null) continue;
                string symbol = SymbolOf(input, d);
                if (!symbols.Contains(symbol)) symbols.Add(symbol);
            }
        }
        return symbols.Count <= SymbolValues[0].Length ? symbols : null;
    }

    static string SymbolOf(ValueInfo input, int dimension) => input.Shape![dimension].Symbol is { Length: > 0 } name ? "=" + name : $"{input.Name}:{dimension}";

    static Dictionary<string, Tensor>? Capture(Graph graph, OpRegistry? registry, List<string> symbols, long[] values, IReadOnlyCollection<string> names)
    {
        try
        {
            using var module = new GraphModule(graph, registry);
            module.eval();
            var shapes = graph.Inputs.ToDictionary(input => input.Name,
                input => input.Shape!.Select((d, k) => d.Size ?? values[symbols.IndexOf(SymbolOf(input, k))]).ToArray());
            // Ids within the table they index, ones for masks; integers that index no table are ones too (IntLow 1, IntHigh 2).
            var inputs = InputSynthesis.Synthesize(graph, new InputSynthesisOptions { Shapes = shapes, IntLow = 1, IntHigh = 2 }, seed: 17);
            var captured = new Dictionary<string, Tensor>();
            using (no_grad()) module.Run(inputs, captured, names);
            return captured;
        }
        catch (GraphException)
        {
            return null; // the graph cannot run here (an unsupported op, made-up inputs it refuses): leave it as it is
        }
    }

    /// <summary>The constant shape that reproduces both runs' reshape, or null if none is proven.</summary>
    static long[]? Fold(long[] input1, Tensor shape1, long[] input2, Tensor shape2)
    {
        if (shape1.dtype != ScalarType.Int64 || shape2.dtype != ScalarType.Int64 || shape1.dim() != 1 || shape1.shape[0] != shape2.shape[0]) return null;
        long[] s1 = shape1.data<long>().ToArray(), s2 = shape2.data<long>().ToArray();
        var folded = new long[s1.Length];
        int varying = -1;
        for (int k = 0; k < s1.Length; k++)
        {
            if (s1[k] == s2[k]) folded[k] = s1[k];
            else if (k < input1.Length && k < input2.Length && input1[k] == s1[k] && input2[k] == s2[k]) folded[k] = 0;
            else if (varying < 0 && !s1.Contains(-1)) { folded[k] = -1; varying = k; }
            else return null;
        }
        var expected1 = Resolve(s1, input1);
        var expected2 = Resolve(s2, input2);
        if (expected1 == null || expected2 == null) return null;
        var got1 = Resolve(folded, input1);
        var got2 = Resolve(folded, input2);
        return got1 != null && got2 != null && got1.SequenceEqual(expected1) && got2.SequenceEqual(expected2) ? folded : null;
    }

    /// <summary>The output shape of a Reshape (allowzero = 0) of an input of shape <paramref name="input"/>, or null if invalid.</summary>
    static long[]? Resolve(long[] shape, long[] input)
    {
        long total = input.Aggregate(1L, (a, b) => a * b);
        var result = new long[shape.Length];
        int infer = -1;
        long known = 1;
        for (int k = 0; k < shape.Length; k++)
        {
            long d = shape[k];
            if (d == 0) { if (k >= input.Length) return null; d = input[k]; }
            if (d == -1) { if (infer >= 0) return null; infer = k; continue; }
            if (d < 0) return null;
            result[k] = d;
            known *= d;
        }
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0) return null;
            result[infer] = total / known;
        }
        else if (known != total) return null;
        return result;
    }

    /// <summary>Nodes none of whose outputs is read, and initializers no node reads.</summary>
    static (HashSet<Node> Nodes, HashSet<string> Initializers) Unread(Graph graph)
    {
        var read = new HashSet<string>(graph.Nodes.SelectMany(n => n.Inputs).Concat(graph.Outputs.Select(o => o.Name)));
        return (graph.Nodes.Where(n => n.Outputs.All(o => !read.Contains(o))).ToHashSet(),
                graph.Initializers.Keys.Where(k => !read.Contains(k)).ToHashSet());
    }

    /// <summary>Removes the nodes and initializers that the folds left unread (repeatedly), keeping those that were unread before.</summary>
    static void RemoveNewlyUnread(Graph graph, (HashSet<Node> Nodes, HashSet<string> Initializers) before)
    {
        while (true)
        {
            var (nodes, _) = Unread(graph);
            nodes.ExceptWith(before.Nodes);
            if (nodes.Count == 0) break;
            graph.Nodes.RemoveAll(nodes.Contains);
        }
        foreach (string name in Unread(graph).Initializers.Except(before.Initializers).ToList()) graph.Initializers.Remove(name);
    }
}
