using System.CommandLine;
using PruneSharp.Compression;

namespace PruneSharp.Cli.Commands;

/// <summary><c>prunesharp decompress</c>: a <c>.psz</c> file back to its shared-weight ONNX model.</summary>
static class DecompressCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("file") { Description = "The .psz file written by `prunesharp compress`." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the ONNX model.", Required = true };
        var command = new Command("decompress",
            "Decode a .psz file (checking its checksums, sizes and code lengths) into the shared-weight ONNX model, exactly\n" +
            "as compress made it.\nExample: prunesharp decompress lenet300.psz -o lenet300-shared.onnx")
        {
            input, output,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(input)!;
            if (!file.Exists) throw new ArgumentException($"compressed model not found: {file.FullName}");
            string outputPath = Path.GetFullPath(parse.GetValue(output)!);
            DeepCompression.Decompress(file.FullName, outputPath);
            Console.WriteLine($"saved {outputPath}");
        });
        return command;
    }
}
