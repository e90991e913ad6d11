using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using static TorchSharp.torch;

namespace PruneSharp.Training;

/// <summary>
/// Whether a model's output can be scored as a task before it is scored: perplexity needs one output of next-token
/// logits as wide as the tokenizer's vocabulary, accuracy one output of class scores <c>[batch, classes]</c> with one
/// score per class of the labels. A model whose output is something else (an encoder's hidden states, several outputs)
/// would otherwise get a number that means nothing.
/// </summary>
public static class EvaluationTask
{
    /// <summary>Why the perplexity of <paramref name="model"/> cannot be measured with a tokenizer of <paramref name="vocabulary"/> tokens; null if it can.</summary>
    /// <param name="model">The model (run once on <paramref name="tokens"/>).</param>
    /// <param name="vocabulary">The tokenizer's vocabulary size.</param>
    /// <param name="tokens">A short window of token ids <c>[1, T]</c> to run it on.</param>
    public static string? WhyNotLanguageModel(GraphModule model, long vocabulary, Tensor tokens)
    {
        var graph = model.Graph;
        if (graph.Outputs.Count != 1) return SeveralOutputs(graph, "perplexity needs one output of next-token logits");
        string name = graph.Outputs[0].Name;
        var ids = graph.Inputs.FirstOrDefault(i => i.ElementType is DataType.Int64 or DataType.Int32);
        if (ids is null) return $"the model has no integer input for token ids (inputs: {string.Join(", ", graph.Inputs.Select(i => $"{i.Name} {i.ElementType}"))})";
        if (InputSynthesis.Infer(graph, ids) is { Kind: InputValueKind.Integers } table && table.Reason.StartsWith("indexes the", StringComparison.Ordinal) && table.High < vocabulary)
            return $"input '{ids.Name}' {table.Reason}, the tokenizer has {vocabulary} tokens: not the model's tokenizer";
        long[] shape = Run(model, tokens, ids);
        if (shape.Length != 3)
            return $"output '{name}' is [{string.Join(",", shape)}] for [{string.Join(",", tokens.shape)}] token ids, not next-token logits [batch, tokens, vocabulary]";
        if (shape[2] != vocabulary)
            return $"output '{name}' is {shape[2]} wide, the tokenizer has {vocabulary} tokens: not vocabulary logits";
        if (graph.Inputs.Count != 1)
            return $"the model takes {graph.Inputs.Count} inputs ({string.Join(", ", graph.Inputs.Select(i => i.Name))}); perplexity feeds a language model token ids alone";
        return null;
    }

    /// <summary>Why the accuracy of <paramref name="model"/> on labels of <paramref name="classes"/> classes cannot be measured; null if it can.</summary>
    /// <param name="model">The model (run once on <paramref name="example"/>).</param>
    /// <param name="classes">The number of classes of the labels.</param>
    /// <param name="example">One batch of inputs of the data.</param>
    public static string? WhyNotClassifier(GraphModule model, int classes, Tensor example)
    {
        var graph = model.Graph;
        if (graph.Outputs.Count != 1) return SeveralOutputs(graph, "accuracy needs one output of class scores");
        string name = graph.Outputs[0].Name;
        if (graph.Inputs.Count != 1)
            return $"the model takes {graph.Inputs.Count} inputs ({string.Join(", ", graph.Inputs.Select(i => i.Name))}); accuracy feeds a classifier the data's one input";
        long[] shape = Run(model, example, graph.Inputs.FirstOrDefault());
        if (shape.Length != 2)
            return $"output '{name}' is [{string.Join(",", shape)}], not class scores [batch, classes]";
        if (shape[1] != classes)
            return $"output '{name}' has {shape[1]} scores per example, the labels have {classes} classes: not class scores for these labels";
        return null;
    }

    static string SeveralOutputs(Graph.Graph graph, string need) =>
        $"the model has {graph.Outputs.Count} outputs ({string.Join(", ", graph.Outputs.Select(o => o.Name))}); {need}";

    /// <summary>The output's shape with <paramref name="input"/> fed to <paramref name="fed"/> and the other inputs synthesised.</summary>
    static long[] Run(GraphModule model, Tensor input, ValueInfo? fed)
    {
        bool training = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var given = new Dictionary<string, Tensor> { [(fed ?? model.Graph.Inputs[0]).Name] = input };
            return model.Run(InputSynthesis.Synthesize(model.Graph, new InputSynthesisOptions { Given = given }))[0].shape;
        }
        finally
        {
            if (training) model.train();
        }
    }
}
