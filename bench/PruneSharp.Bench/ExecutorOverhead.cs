using PruneSharp.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PruneSharp.Bench;

/// <summary>
/// GraphModule's interpreter overhead: ResNet-18 as a GraphModule (zoo) vs the same network written as plain
/// TorchSharp modules holding the same weights, forward (eval) and forward+backward (train), in one process.
/// </summary>
sealed class ExecutorOverhead : IBenchmark
{
    public string Name => "executor";
    public string Description => "ResNet-18 GraphModule vs plain TorchSharp modules: forward and forward+backward (args: [batch=32] [size=224] [rounds=5])";

    public int Run(string[] args)
    {
        int batch = args.Length > 0 ? int.Parse(args[0]) : 32;
        int size = args.Length > 1 ? int.Parse(args[1]) : 224;
        int rounds = args.Length > 2 ? int.Parse(args[2]) : 5;
        Console.WriteLine($"ResNet-18, batch {batch}, {size}x{size}, {torch.get_num_threads()} threads, {rounds} alternating rounds (median)");

        using var graph = ModelZoo.CreateClassifier("resnet-18", new ClassifierOptions(3, size, 1000));
        using var plain = new PlainResNet18(1000);
        plain.load_state_dict(graph.state_dict(), strict: false); // BatchNorm2d's num_batches_tracked has no counterpart
        manual_seed(0);
        var x = randn(batch, 3, size, size);
        var y = randint(0, 1000, batch);

        graph.eval(); plain.eval();
        using (no_grad())
        {
            double difference = (graph.call(x) - plain.call(x)).abs().max().item<float>();
            Console.WriteLine($"max |difference| of outputs: {difference:E2}");
            if (difference > 1e-3) { Console.Error.WriteLine("the two networks disagree; not timing"); return 1; }
        }
        var forward = Timing.Medians(rounds,
            () => { using var _ = no_grad(); using var s = NewDisposeScope(); graph.call(x); },
            () => { using var _ = no_grad(); using var s = NewDisposeScope(); plain.call(x); });

        graph.train(); plain.train();
        void Step(nn.Module<Tensor, Tensor> m)
        {
            using var s = NewDisposeScope();
            m.zero_grad();
            nn.functional.cross_entropy(m.call(x), y).backward();
        }
        var backward = Timing.Medians(rounds, () => Step(graph), () => Step(plain));

        Console.WriteLine($"{"",-20}{"GraphModule s",14}{"plain s",10}{"ratio",8}");
        Console.WriteLine($"{"forward",-20}{forward[0],14:F3}{forward[1],10:F3}{forward[0] / forward[1],8:F3}");
        Console.WriteLine($"{"forward+backward",-20}{backward[0],14:F3}{backward[1],10:F3}{backward[0] / backward[1],8:F3}");
        Console.WriteLine("target: ratio <= 1.05");
        return 0;
    }

    /// <summary>torchvision's ResNet-18 written with TorchSharp modules, parameter names matching the zoo's.</summary>
    sealed class PlainResNet18 : nn.Module<Tensor, Tensor>
    {
        readonly Conv2d conv1;
        readonly BatchNorm2d bn1;
        readonly MaxPool2d maxpool;
        readonly List<Block> blocks = new();
        readonly Linear fc;

        public PlainResNet18(long classes) : base("plain_resnet18")
        {
            conv1 = nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
            bn1 = nn.BatchNorm2d(64);
            maxpool = nn.MaxPool2d(3, 2, 1);
            long[] widths = { 64, 128, 256, 512 };
            long inChannels = 64;
            for (int stage = 0; stage < 4; stage++)
                for (int i = 0; i < 2; i++)
                {
                    long stride = stage > 0 && i == 0 ? 2 : 1;
                    blocks.Add(new Block($"layer{stage + 1}.{i}", inChannels, widths[stage], stride));
                    inChannels = widths[stage];
                }
            fc = nn.Linear(512, classes);
            RegisterComponents();
            // Register blocks under torchvision's names so that state dicts line up with the zoo's "layer1.0.conv1.weight".
            foreach (var block in blocks) register_module(block.Prefix, block);
        }

        public override Tensor forward(Tensor x)
        {
            x = maxpool.call(nn.functional.relu(bn1.call(conv1.call(x))));
            foreach (var block in blocks) x = block.call(x);
            return fc.call(x.mean(new long[] { 2, 3 }));
        }
    }

    sealed class Block : nn.Module<Tensor, Tensor>
    {
        public readonly string Prefix;
        readonly Conv2d conv1, conv2;
        readonly BatchNorm2d bn1, bn2;
        readonly Sequential? downsample;

        public Block(string prefix, long inChannels, long width, long stride) : base(prefix)
        {
            Prefix = prefix;
            conv1 = nn.Conv2d(inChannels, width, 3, stride: stride, padding: 1, bias: false);
            bn1 = nn.BatchNorm2d(width);
            conv2 = nn.Conv2d(width, width, 3, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(width);
            if (stride != 1 || inChannels != width)
                downsample = nn.Sequential(nn.Conv2d(inChannels, width, 1, stride: stride, bias: false), nn.BatchNorm2d(width));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var h = bn2.call(conv2.call(nn.functional.relu(bn1.call(conv1.call(x)))));
            return nn.functional.relu(h + (downsample?.call(x) ?? x));
        }
    }
}
