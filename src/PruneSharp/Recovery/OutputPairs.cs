using PruneSharp.Graph;

namespace PruneSharp.Recovery;

/// <summary>Pairs the outputs of a model with those of its reference (the dense model) by name.</summary>
static class OutputPairs
{
    /// <summary>For each of <paramref name="reference"/>'s outputs, its name and its index in both models.</summary>
    /// <exception cref="ArgumentException">An output of one model is missing from the other.</exception>
    public static IReadOnlyList<(string Name, int Model, int Reference)> Match(GraphModule model, GraphModule reference, string modelRole, string referenceRole)
    {
        var names = model.OutputNames;
        var referenceNames = reference.OutputNames;
        foreach (string name in names)
            if (!referenceNames.Contains(name))
                throw new ArgumentException($"the {modelRole} has an output '{name}' that the {referenceRole} lacks (its outputs: {string.Join(", ", referenceNames)}); outputs are matched by name");
        return referenceNames.Select((name, i) =>
        {
            int index = names.ToList().IndexOf(name);
            if (index < 0) throw new ArgumentException($"the {modelRole} has no output '{name}' (its outputs: {string.Join(", ", names)}); outputs are matched by name");
            return (name, index, i);
        }).ToList();
    }

    /// <summary>Throws unless the two values have the same shape.</summary>
    public static void CheckShape(string name, long[] model, long[] reference, string modelRole, string referenceRole)
    {
        if (!model.SequenceEqual(reference))
            throw new ArgumentException($"output '{name}' is [{string.Join(",", model)}] in the {modelRole} but [{string.Join(",", reference)}] in the {referenceRole}; the models must compute the same outputs");
    }
}
