using System.CommandLine;

namespace PruneSharp.Cli.Commands;

/// <summary>
/// <c>prunesharp demo</c>: the README's main job. Until the pruning engine lands it prints the engine facts
/// and says what the demo will run.
/// </summary>
static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Run the end-to-end demo on the embedded default (Fashion-MNIST, LeNet-5).");
        command.SetAction(_ =>
        {
            InfoCommand.Print(Console.Out);
            Console.WriteLine();
            Console.WriteLine("demo: not implemented yet. It will train LeNet-5 on Fashion-MNIST, prune it with global magnitude");
            Console.WriteLine("at 50/80/90/95% sparsity and 2:4, fine-tune, and print sparsity, MACs and accuracy per method.");
        });
        return command;
    }
}
