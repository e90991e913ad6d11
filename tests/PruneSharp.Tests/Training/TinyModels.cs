using PruneSharp.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Training;

/// <summary>Small hand-written modules and data for trainer tests.</summary>
static class TinyModels
{
    /// <summary>An MLP over 1x4x4 images with dropout (so the generator state matters), 3 classes.</summary>
    public static nn.Module<Tensor, Tensor> Mlp(long seed, double dropout = 0.2)
    {
        var model = nn.Sequential(
            ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(16, 24)),
            ("relu", nn.ReLU()),
            ("drop", nn.Dropout(dropout)),
            ("fc2", nn.Linear(24, 3)));
        // Linear's default initialisation (weights and biases uniform in ±1/√fan_in), drawn from a generator of its
        // own: the global one is shared with tests running in parallel, so manual_seed alone is not reproducible.
        var generator = new Generator((ulong)seed);
        using (no_grad())
            foreach (var (name, parameter) in model.named_parameters())
            {
                long fanIn = name.StartsWith("fc1") ? 16 : 24;
                parameter.uniform_(-1 / Math.Sqrt(fanIn), 1 / Math.Sqrt(fanIn), generator);
            }
        return model;
    }

    /// <summary>
    /// 4x4 grey images whose label is the brightest of the left, middle and right columns, from a fixed seed
    /// (a rule the MLP can learn).
    /// </summary>
    public static ImageDataset Columns(int count, long seed)
    {
        var random = new DataRandom(seed);
        var pixels = new byte[count * 16];
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            int label = random.Next(3);
            labels[i] = label;
            for (int p = 0; p < 16; p++)
            {
                int column = p % 4;
                bool bright = column == label || (label == 2 && column == 3);
                pixels[i * 16 + p] = (byte)(random.Next(100) + (bright ? 150 : 0));
            }
        }
        return new ImageDataset(pixels, labels, 1, 4, 4, ["left", "middle", "right"]);
    }

    /// <summary>A bigram language model: the logits of the next token depend only on the current one.</summary>
    public sealed class Bigram : nn.Module<Tensor, Tensor>
    {
        readonly Embedding table;

        public Bigram(int vocabulary) : base(nameof(Bigram))
        {
            table = nn.Embedding(vocabulary, vocabulary);
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens) => table.call(tokens);
    }

    /// <summary>Outputs all-zero logits: every token has probability 1/vocabulary.</summary>
    public sealed class Uniform : nn.Module<Tensor, Tensor>
    {
        readonly Parameter bias;
        readonly int vocabulary;

        public Uniform(int vocabulary) : base(nameof(Uniform))
        {
            this.vocabulary = vocabulary;
            bias = new Parameter(zeros(1));
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens) => zeros(tokens.shape[0], tokens.shape[1], vocabulary) + bias;
    }

    /// <summary>All parameters flattened into one array, in state_dict order.</summary>
    public static float[] Weights(nn.Module module) =>
        module.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();
}
