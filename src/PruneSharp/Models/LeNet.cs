using PruneSharp.Graph;

namespace PruneSharp.Models;

/// <summary>The LeNet family (LeCun et al. 1998) as used in the pruning literature.</summary>
public static class LeNet
{
    /// <summary>
    /// LeNet-300-100: a multilayer perceptron with hidden layers of 300 and 100 ReLU units
    /// (266,610 parameters on 28×28 inputs with 10 classes).
    /// </summary>
    public static GraphModule LeNet300100(ClassifierOptions options)
    {
        var b = new GraphBuilder("lenet-300-100", options.Seed);
        var x = b.Input("input", null, options.InputChannels, options.InputSize, options.InputSize);
        var h = b.Flatten(x, "flatten");
        h = b.Relu(b.Linear(h, 300, "fc1"), "relu1");
        h = b.Relu(b.Linear(h, 100, "fc2"), "relu2");
        b.Output(b.Linear(h, options.Classes, "fc3"), "logits");
        return b.Build();
    }

    /// <summary>
    /// LeNet-5 with ReLU and max pooling: conv 6@5×5 (padding 2 on 28×28 inputs) → pool → conv 16@5×5 → pool →
    /// fully connected 120 → 84 → classes (61,706 parameters for 28×28 inputs and 10 classes).
    /// </summary>
    public static GraphModule LeNet5(ClassifierOptions options)
    {
        var b = new GraphBuilder("lenet-5", options.Seed);
        var x = b.Input("input", null, options.InputChannels, options.InputSize, options.InputSize);
        long padding = options.InputSize == 28 ? 2 : 0;
        var h = b.MaxPool2d(b.Relu(b.Conv2d(x, 6, 5, "conv1", padding: padding), "relu1"), 2, name: "pool1");
        h = b.MaxPool2d(b.Relu(b.Conv2d(h, 16, 5, "conv2"), "relu2"), 2, name: "pool2");
        h = b.Flatten(h, "flatten");
        h = b.Relu(b.Linear(h, 120, "fc1"), "relu3");
        h = b.Relu(b.Linear(h, 84, "fc2"), "relu4");
        b.Output(b.Linear(h, options.Classes, "fc3"), "logits");
        return b.Build();
    }
}
