using System.CommandLine;
using PruneSharp.Data;
using PruneSharp.Engine;

namespace PruneSharp.Cli.Commands;

/// <summary><c>prunesharp info</c>: versions, devices, threads and data locations.</summary>
static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show PruneSharp, TorchSharp and libtorch versions, devices, threads and where data sets are looked for.");
        command.SetAction(_ => Print(Console.Out));
        return command;
    }

    public static void Print(TextWriter output)
    {
        EngineInfo info = TorchEngine.Describe();
        output.WriteLine($"PruneSharp   {info.PruneSharpVersion}");
        output.WriteLine($"TorchSharp   {info.TorchSharpVersion}");
        output.WriteLine($"libtorch     {info.LibTorchVersion}");
        output.WriteLine($"devices      {string.Join(", ", info.Devices)}");
        output.WriteLine($"threads      {info.Threads}");
        output.WriteLine("data sets are looked for in (first match wins; --data DIR overrides):");
        foreach (string folder in DataLocations.SearchPath("<name>"))
            output.WriteLine($"  {folder}");
        output.WriteLine($"  Fashion-MNIST default: {DataLocations.DebianFashionMnist} ({(Directory.Exists(DataLocations.DebianFashionMnist) ? "present" : "absent: apt-get install dataset-fashion-mnist")})");
    }
}
