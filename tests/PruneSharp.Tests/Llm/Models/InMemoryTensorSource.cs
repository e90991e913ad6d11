using PruneSharp.Llm;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Models;

/// <summary>An <see cref="ITensorSource"/> over tensors held in a dictionary; records which names were read.</summary>
sealed class InMemoryTensorSource(IReadOnlyDictionary<string, Tensor> tensors) : ITensorSource
{
    public List<string> ReadNames { get; } = [];

    public IReadOnlyList<string> Names => tensors.Keys.ToList();

    public bool Contains(string name) => tensors.ContainsKey(name);

    public long[] Shape(string name) => tensors[name].shape;

    public Tensor Read(string name)
    {
        ReadNames.Add(name);
        return tensors[name].to(ScalarType.Float32).clone();
    }
}
