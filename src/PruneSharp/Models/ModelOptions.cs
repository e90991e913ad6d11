namespace PruneSharp.Models;

/// <summary>Input and output sizes of an image classifier from the zoo.</summary>
/// <param name="InputChannels">Channels of the input image (1 for Fashion-MNIST, 3 for CIFAR).</param>
/// <param name="InputSize">Height and width of the (square) input image.</param>
/// <param name="Classes">Number of classes.</param>
/// <param name="Seed">Seed for weight initialisation.</param>
public sealed record ClassifierOptions(long InputChannels = 1, long InputSize = 28, long Classes = 10, long Seed = 0);
