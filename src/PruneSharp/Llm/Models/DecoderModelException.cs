namespace PruneSharp.Llm.Models;

/// <summary>A language-model checkpoint cannot be run as given: its config or its tensors; the message names the key or tensor.</summary>
public class DecoderModelException(string message) : Exception(message);

/// <summary>A <c>config.json</c> key is missing, malformed, or asks for something not supported (an architecture, a rope scaling).</summary>
public sealed class ModelConfigException(string source, string key, string problem)
    : DecoderModelException($"{source}: {key}: {problem}")
{
    /// <summary>The config file (or a description of where the config came from).</summary>
    public string ConfigSource { get; } = source;

    /// <summary>The key at fault, as the config writes it (<c>rope_scaling</c>, <c>model_type</c>).</summary>
    public string Key { get; } = key;
}

/// <summary>A tensor the model needs is missing from the checkpoint or has the wrong shape.</summary>
public sealed class CheckpointTensorException(string tensorName, string problem)
    : DecoderModelException($"tensor {tensorName}: {problem}")
{
    /// <summary>The checkpoint's name of the tensor (<c>model.layers.0.self_attn.q_proj.weight</c>).</summary>
    public string TensorName { get; } = tensorName;
}
