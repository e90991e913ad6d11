using PruneSharp.Graph;

namespace PruneSharp.Models;

/// <summary>The zoo's models by name, for the CLI and experiments (<c>--model lenet-5</c>).</summary>
public static class ModelZoo
{
    static readonly Dictionary<string, Func<ClassifierOptions, GraphModule>> Classifiers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["lenet-300-100"] = LeNet.LeNet300100,
        ["lenet-5"] = LeNet.LeNet5,
        ["conv-2"] = o => ConvNet.Create(2, o),
        ["conv-4"] = o => ConvNet.Create(4, o),
        ["conv-6"] = o => ConvNet.Create(6, o),
        ["vgg-11"] = o => Vgg.Create(11, o),
        ["vgg-16"] = o => Vgg.Create(16, o),
        ["vgg-19"] = o => Vgg.Create(19, o),
        ["resnet-20"] = o => ResNet.Cifar(20, o),
        ["resnet-32"] = o => ResNet.Cifar(32, o),
        ["resnet-56"] = o => ResNet.Cifar(56, o),
        ["resnet-18"] = ResNet.ResNet18,
        ["mobilenet-v2"] = o => MobileNetV2.Create(o, cifar: true),
    };

    /// <summary>Names of the image classifiers.</summary>
    public static IReadOnlyList<string> ClassifierNames => Classifiers.Keys.ToList();

    /// <summary>Names of every model, language models included.</summary>
    public static IReadOnlyList<string> Names => ClassifierNames.Append("tiny-gpt").ToList();

    /// <summary>True if <paramref name="name"/> is a zoo image classifier.</summary>
    public static bool IsClassifier(string name) => Classifiers.ContainsKey(name);

    /// <summary>Builds the image classifier <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No classifier has that name; the message lists those that exist.</exception>
    public static GraphModule CreateClassifier(string name, ClassifierOptions options) =>
        Classifiers.TryGetValue(name, out var create) ? create(options)
            : throw new ArgumentException($"unknown model '{name}'; the zoo has: {string.Join(", ", Names)}");
}
