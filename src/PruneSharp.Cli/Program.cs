using System.CommandLine;
using System.CommandLine.Help;
using PruneSharp.Cli;
using PruneSharp.Cli.Commands;
using PruneSharp.Engine;
using PruneSharp.Files;

// One-shot commands: keep freed tensor memory mapped (a forward pass otherwise pays page faults for every activation).
// PRUNESHARP_RELEASE_MEMORY=1 keeps glibc's defaults (as for the benchmarks).
if (Environment.GetEnvironmentVariable("PRUNESHARP_RELEASE_MEMORY") != "1") TorchEngine.RetainFreedMemory();
// SIGINT and SIGTERM alike: training checkpoints and exits 130/143; other work removes its half-written files first.
Interruption.Install();
AtomicFile.ConcurrentWriter += message => Console.Error.WriteLine($"prunesharp: warning: {message}");

// A named root rather than RootCommand, whose name is the assembly's (PruneSharp.Cli): usage lines say what users type.
var root = new Command("prunesharp", "prunesharp: neural-network pruning for .NET (TorchSharp, ONNX).")
{
    new HelpOption(),
    new VersionOption(),
    InfoCommand.Create(),
    DemoCommand.Create(),
    InspectCommand.Create(),
    CheckCommand.Create(),
    TrainCommand.Create(),
    EvalCommand.Create(),
    PruneCommand.Create(),
    LthCommand.Create(),
    LlmCommand.Create(),
    RunCommand.Create(),
    SweepCommand.Create(),
    RunsCommand.Create(),
    ReportCommand.Create(),
    CompressCommand.Create(),
    DecompressCommand.Create(),
    RunSparseCommand.Create(),
    BenchCommand.Create(),
};
return CommandRunner.Run(root, args);
