using System.CommandLine;
using Google.Protobuf;
using PruneSharp.Cli.Commands;
using PruneSharp.Compression;
using PruneSharp.Onnx;
using PruneSharp.Onnx.Proto;
using PruneSharp.Tests.Data;
using PruneSharp.Tests.Onnx;
using PruneSharp.Tests.Support;
using Xunit.Abstractions;

namespace PruneSharp.Tests.Cli;

/// <summary>
/// A corpus of hostile inputs, generated here from a valid model, checkpoint and data set (truncated, bit-flipped and
/// garbled bytes at seeded positions, absurd dimensions, hostile external-data paths and symbolic links, duplicate
/// and cyclic graphs, corrupt checkpoints, bad IDX files), run in-process through every verb that reads it. Each case
/// must end in one clean line and exit code 1, or in success with an output that ONNX Runtime loads; never an
/// unmapped exception, a stack trace or a run over its time box. The counts are printed (docs/reliability.md).
/// </summary>
[Collection(SerialCollection.Name)]
public partial class HostileInputTests(ITestOutputHelper log)
{
    static readonly TimeSpan TimeBox = TimeSpan.FromSeconds(20);

    /// <summary>Every case: a name and the files it writes into a folder (returns the path the verbs read).</summary>
    static IEnumerable<(string Name, Func<TempFolder, string> Make)> Models()
    {
        byte[] valid = BadInputTests.SmallCnnModel().ToByteArray();
        string Bytes(TempFolder f, byte[] bytes)
        {
            File.WriteAllBytes(f.File("m.onnx"), bytes);
            return f.File("m.onnx");
        }
        string Proto(TempFolder f, Action<ModelProto> change)
        {
            var model = BadInputTests.SmallCnnModel();
            change(model);
            return Bytes(f, model.ToByteArray());
        }
        var random = new Random(13);
        for (int i = 1; i <= 16; i++)
        {
            int length = (int)((long)valid.Length * i / 17);
            yield return ($"truncated at {length} of {valid.Length} bytes", f => Bytes(f, valid[..length]));
        }
        for (int i = 0; i < 40; i++)
        {
            int at = random.Next(valid.Length), bit = random.Next(8);
            yield return ($"bit {bit} of byte {at} flipped", f =>
            {
                var bytes = (byte[])valid.Clone();
                bytes[at] ^= (byte)(1 << bit);
                return Bytes(f, bytes);
            });
        }
        for (int i = 0; i < 8; i++)
        {
            int at = random.Next(valid.Length - 16);
            var garbage = new byte[16];
            random.NextBytes(garbage);
            yield return ($"16 random bytes at {at}", f =>
            {
                var bytes = (byte[])valid.Clone();
                garbage.CopyTo(bytes, at);
                return Bytes(f, bytes);
            });
        }
        yield return ("empty file", f => Bytes(f, []));
        yield return ("a folder named m.onnx", f => { Directory.CreateDirectory(f.File("m.onnx")); return f.File("m.onnx"); });
        yield return ("declared input dimension 10^12", f => Proto(f, m => m.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = 1_000_000_000_000 }));
        yield return ("declared input dimension -5", f => Proto(f, m => m.Graph.Input[0].Type.TensorType.Shape.Dim[2] = new TensorShapeProto.Types.Dimension { DimValue = -5 }));
        yield return ("initializer dims 10^12 with 16 bytes", f => Proto(f, m => { var t = m.Graph.Initializer[0]; t.Dims.Clear(); t.Dims.Add(1_000_000_000_000); }));
        yield return ("initializer dims overflowing int64", f => Proto(f, m => { var t = m.Graph.Initializer[0]; t.Dims.Clear(); t.Dims.Add(long.MaxValue / 2); t.Dims.Add(16); }));
        yield return ("external data ../../etc/passwd", f => Proto(f, m => External(m, "../../etc/passwd")));
        yield return ("external data /etc/passwd", f => Proto(f, m => External(m, "/etc/passwd")));
        yield return ("external data through a symbolic link out of the folder", f =>
        {
            File.CreateSymbolicLink(f.File("weights.bin"), "/etc/hostname");
            return Proto(f, m => External(m, "weights.bin"));
        });
        yield return ("external data offset beyond the file", f =>
        {
            File.WriteAllBytes(f.File("weights.bin"), new byte[64]);
            return Proto(f, m => External(m, "weights.bin", offset: 1L << 40));
        });
        yield return ("a value produced twice", f => Proto(f, m => m.Graph.Node[3].Output[0] = m.Graph.Node[2].Output[0]));
        yield return ("a cycle", f => Proto(f, m => m.Graph.Node[1].Input[0] = m.Graph.Node[2].Output[0]));
        yield return ("a self-loop", f => Proto(f, m => m.Graph.Node[2].Input[0] = m.Graph.Node[2].Output[0]));
        yield return ("no outputs", f => Proto(f, m => m.Graph.Output.Clear()));
        yield return ("an output nothing produces", f => Proto(f, m => m.Graph.Output[0].Name = "ghost"));
        yield return ("an unknown op", f => Proto(f, m => m.Graph.Node[2].OpType = "Frobnicate"));
        yield return ("a misspelt attribute", f => Proto(f, m => m.Graph.Node[0].Attribute.Add(new AttributeProto { Name = "dilatiojs", Type = 7, Ints = { 1, 1 } })));
        yield return ("an attribute of the wrong kind", f => Proto(f, m => m.Graph.Node[0].Attribute[0].Type = 1));
        yield return ("an initializer named like the input", f => Proto(f, m => m.Graph.Initializer.Add(new TensorProto { Name = "input", DataType = 1, Dims = { 1, 3, 8, 8 }, RawData = ByteString.CopyFrom(new byte[768]) })));
        yield return ("a node reading an undefined value", f => Proto(f, m => m.Graph.Node[4].Input[0] = "nowhere"));
        yield return ("a weight of the wrong shape", f => Proto(f, m => { var t = m.Graph.Initializer[0]; t.Dims[1] = 5; t.RawData = ByteString.CopyFrom(new byte[4 * 4 * 5 * 9]); }));
        yield return ("a ConstantOfShape of 10^6 x 10^6 as a second output", f => Proto(f, m =>
        {
            var shape = new TensorProto { Name = "huge_shape", DataType = 7, Dims = { 2 } };
            shape.Int64Data.Add([1_000_000, 1_000_000]);
            m.Graph.Initializer.Add(shape);
            m.Graph.Node.Add(new NodeProto { Name = "huge", OpType = "ConstantOfShape", Input = { "huge_shape" }, Output = { "huge" } });
            m.Graph.Output.Add(new ValueInfoProto { Name = "huge", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        }));
        yield return ("a Range of 2^62 elements as a second output", f => Proto(f, m =>
        {
            foreach (var (name, value) in new[] { ("r_start", 0L), ("r_limit", 1L << 62), ("r_delta", 1L) })
            {
                var scalar = new TensorProto { Name = name, DataType = 7 };
                scalar.Int64Data.Add(value);
                m.Graph.Initializer.Add(scalar);
            }
            m.Graph.Node.Add(new NodeProto { Name = "range", OpType = "Range", Input = { "r_start", "r_limit", "r_delta" }, Output = { "long" } });
            m.Graph.Output.Add(new ValueInfoProto { Name = "long", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 7 } } });
        }));
        yield return ("opset 3", f => Proto(f, m => m.OpsetImport[0].Version = 3));
        yield return ("opset 99", f => Proto(f, m => m.OpsetImport[0].Version = 99));
    }

    static void External(ModelProto model, string location, long offset = 0)
    {
        var weight = model.Graph.Initializer[0];
        weight.ClearRawData();
        weight.DataLocation = 1;
        weight.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        weight.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    /// <summary>
    /// The verbs that read a model file: their arguments given the file's path and an output path, the output's name,
    /// and how to check an output other than an ONNX model.
    /// </summary>
    static readonly (Func<string, string, string[]> Args, string Output, Action<string>? Validate)[] ModelVerbs =
    [
        ((m, _) => ["inspect", m], "out.onnx", null),
        ((m, _) => ["inspect", m, "--structure"], "out.onnx", null),
        ((m, _) => ["check", m, "--samples", "1"], "out.onnx", null),
        ((m, o) => ["prune", m, "--sparsity", "0.5", "-o", o], "out.onnx", null),
        ((m, o) => ["prune", m, "--structured", "channel", "--ratio", "0.5", "-o", o], "out.onnx", null),
        ((m, _) => ["run-sparse", m, "--runs", "1", "--min-sparsity", "0"], "out.onnx", null),
        ((m, o) => ["compress", m, "--bits", "conv=4,fc=4", "-o", o], "out.psz", psz => PszReader.Read(psz)),
    ];

    sealed class Outcomes
    {
        public int Cases, Runs, CleanErrors, ValidResults;
        public List<string> Failures { get; } = new();
        public List<string> Valid { get; } = new();
    }

    /// <summary>Every verb that reads a file of the corpus, run in-process as the CLI runs it.</summary>
    static (int Code, string Output, string Error) Invoke(string[] args) => CliInvocation.Run(new RootCommand("test")
    {
        TrainCommand.Create(), EvalCommand.Create(), PruneCommand.Create(), LthCommand.Create(), InspectCommand.Create(), CheckCommand.Create(),
        LlmCommand.Create(), RunCommand.Create(), SweepCommand.Create(), CompressCommand.Create(), DecompressCommand.Create(), RunSparseCommand.Create(), RunsCommand.Create(), ReportCommand.Create(),
    }, args);

    /// <summary>
    /// Runs one verb on one case and classifies the outcome. A written <paramref name="output"/> must load: an ONNX
    /// model in ONNX Runtime, a checkpoint folder as a language model, anything else as <paramref name="validate"/>
    /// says. With <paramref name="watch"/>, nothing else may appear in that folder.
    /// </summary>
    static void Judge(Outcomes outcomes, string name, string[] args, string? output, string? watch = null, Action<string>? validate = null)
    {
        outcomes.Runs++;
        string[] Entries() => watch is null ? [] : Directory.GetFileSystemEntries(watch, "*", SearchOption.AllDirectories)
            .Where(e => output is null || (e != output && !e.StartsWith(output + Path.DirectorySeparatorChar, StringComparison.Ordinal))).Order().ToArray();
        var before = Entries();
        // Verbs that take --threads set libtorch's count for the whole process: give later tests the count they had.
        int threads = TorchSharp.torch.get_num_threads();
        var run = Task.Run(() => Invoke(args));
        if (Task.WhenAny(run, Task.Delay(TimeBox)).Result != run)
        {
            outcomes.Failures.Add($"{name} | {args[0]}: still running after {TimeBox.TotalSeconds} s");
            return;
        }
        if (run.IsFaulted)
        {
            outcomes.Failures.Add($"{name} | {string.Join(' ', args.Take(3))}: unmapped {run.Exception!.InnerException!.GetType().Name}: {run.Exception.InnerException.Message}");
            return;
        }
        TorchSharp.torch.set_num_threads(threads);
        var (code, _, error) = run.Result;
        string[] lines = error.TrimEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (Entries() is var after && !after.SequenceEqual(before))
            outcomes.Failures.Add($"{name} | {string.Join(' ', args.Take(3))}: left {string.Join(", ", after.Except(before))}");
        if (code == 0)
        {
            if (validate is not null && output is not null)
            {
                try
                {
                    validate(output);
                }
                catch (Exception e)
                {
                    outcomes.Failures.Add($"{name} | {string.Join(' ', args.Take(2))}: exit 0 but the output is not what it should be: {e.Message}");
                    return;
                }
            }
            else if (output is not null && File.Exists(output))
            {
                try
                {
                    using var runtime = new OnnxRuntimeRunner(output);
                }
                catch (Exception e)
                {
                    outcomes.Failures.Add($"{name} | {args[0]}: exit 0 but ONNX Runtime refuses the output: {e.Message}");
                    return;
                }
            }
            else if (output is not null && Directory.Exists(output))
            {
                try
                {
                    using var checkpoint = PruneSharp.Llm.LanguageModelCheckpoint.Open(output);
                }
                catch (Exception e)
                {
                    outcomes.Failures.Add($"{name} | {string.Join(' ', args.Take(2))}: exit 0 but the written checkpoint does not open: {e.Message}");
                    return;
                }
            }
            outcomes.ValidResults++;
            outcomes.Valid.Add($"{name} | {string.Join(' ', args.Take(3).Select(Path.GetFileName))}");
        }
        // The refusal is the last line; lines before it are the verb's progress (lth reports each round it reuses), or a
        // recipe's problems, one line each, before the line that counts them.
        else if (code == 1 && lines.Length >= 1 && lines[^1].StartsWith("prunesharp: ", StringComparison.Ordinal)
                 && (lines[..^1].All(l => !l.StartsWith("prunesharp: ", StringComparison.Ordinal)) || ProblemCount().IsMatch(lines[^1]))
                 && !error.Contains("   at ", StringComparison.Ordinal))
            outcomes.CleanErrors++;
        else
            outcomes.Failures.Add($"{name} | {string.Join(' ', args.Take(3))}: exit {code}: {error.Trim()}");
        if (output is not null && code != 0 && (File.Exists(output) || Directory.Exists(output)))
            outcomes.Failures.Add($"{name} | {args[0]}: failed but wrote {output}");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^prunesharp: \d+ problem\(s\) in ")]
    private static partial System.Text.RegularExpressions.Regex ProblemCount();

    [Fact]
    public void Every_hostile_model_ends_in_a_clean_error_or_a_valid_result_in_every_verb()
    {
        var outcomes = new Outcomes();
        foreach (var (name, make) in Models())
        {
            using var folder = new TempFolder();
            string model = make(folder);
            outcomes.Cases++;
            foreach (var (args, file, validate) in ModelVerbs)
            {
                string output = folder.File(file);
                File.Delete(output);
                Judge(outcomes, name, args(model, output), output, validate: validate);
            }
            Assert.Empty(Directory.EnumerateFiles(folder.Path, "*.tmp", SearchOption.AllDirectories));
        }
        log.WriteLine($"models: {outcomes.Cases} cases x {ModelVerbs.Length} verbs = {outcomes.Runs} runs: {outcomes.CleanErrors} clean errors, {outcomes.ValidResults} valid results, {outcomes.Failures.Count} failures");
        Assert.True(outcomes.Failures.Count == 0, string.Join("\n", outcomes.Failures));
    }

    [Fact]
    public void Corrupt_checkpoints_and_data_files_end_in_a_clean_error_or_a_valid_result()
    {
        using var folder = new TempFolder();
        string data = ReliabilityTests.Data(folder, count: 32);
        string output = folder.File("m.onnx");
        string[] Train(string dataFolder, params string[] more) =>
            ["train", "--model", "lenet-300-100", "--data", dataFolder, "--epochs", "1", "--batch-size", "16", "-o", output, .. more];
        var (code, _, error) = Invoke(Train(data));
        Assert.True(code == 0, error);
        byte[] checkpoint = File.ReadAllBytes(output + ".ckpt");
        var outcomes = new Outcomes();
        var random = new Random(17);

        var checkpoints = new List<(string Name, byte[] Bytes)>();
        for (int i = 1; i <= 12; i++) checkpoints.Add(($"checkpoint truncated at {checkpoint.Length * i / 13}", checkpoint[..(checkpoint.Length * i / 13)]));
        for (int i = 0; i < 12; i++)
        {
            // Structure lives at the start (magic, position, names, shapes): flip bits there, and some anywhere.
            int at = i < 8 ? random.Next(Math.Min(400, checkpoint.Length)) : random.Next(checkpoint.Length);
            var bytes = (byte[])checkpoint.Clone();
            bytes[at] ^= (byte)(1 << random.Next(8));
            checkpoints.Add(($"checkpoint bit flipped at {at}", bytes));
        }
        checkpoints.Add(("empty checkpoint", []));
        foreach (var (name, bytes) in checkpoints)
        {
            outcomes.Cases++;
            File.WriteAllBytes(output + ".ckpt", bytes);
            File.Delete(output);
            Judge(outcomes, name, Train(data, "--resume"), output);
        }

        var images = File.ReadAllBytes(Path.Combine(data, "train-images-idx3-ubyte"));
        var dataCases = new List<(string Name, string File, byte[] Bytes)>
        {
            ("IDX images truncated", "train-images-idx3-ubyte", images[..(images.Length / 2)]),
            ("IDX images with a wrong magic", "train-images-idx3-ubyte", [0, 0, 9, 3, .. images[4..]]),
            ("IDX images claiming 2^31 - 1 examples", "train-images-idx3-ubyte", [.. images[..4], 0x7f, 0xff, 0xff, 0xff, .. images[8..]]),
            ("IDX labels of another count", "train-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3, 4, 5]),
            ("IDX label 200 of 10 classes", "train-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 32, .. Enumerable.Repeat((byte)200, 32)]),
            ("IDX file empty", "t10k-images-idx3-ubyte", []),
        };
        foreach (var (name, file, bytes) in dataCases)
        {
            outcomes.Cases++;
            using var bad = new TempFolder();
            string copy = bad.File("data");
            Directory.CreateDirectory(copy);
            foreach (string f in Directory.GetFiles(data)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
            File.WriteAllBytes(Path.Combine(copy, file), bytes);
            File.Delete(output);
            Judge(outcomes, name, Train(copy), output);
        }
        log.WriteLine($"checkpoints and data: {outcomes.Cases} cases = {outcomes.Runs} runs: {outcomes.CleanErrors} clean errors, {outcomes.ValidResults} valid results, {outcomes.Failures.Count} failures");
        Assert.True(outcomes.Failures.Count == 0, string.Join("\n", outcomes.Failures));
    }

    /// <summary>Corruptions of one file's bytes: empty, truncated, bits flipped near the start (headers) and anywhere.</summary>
    static IEnumerable<(string Name, byte[] Bytes)> Corruptions(string label, byte[] valid, Random random)
    {
        yield return ($"{label} empty", []);
        yield return ($"{label} truncated to half", valid[..(valid.Length / 2)]);
        yield return ($"{label} truncated to 7 bytes", valid[..Math.Min(7, valid.Length)]);
        for (int i = 0; i < 4; i++)
        {
            int at = i < 3 ? random.Next(Math.Min(200, valid.Length)) : random.Next(valid.Length);
            var bytes = (byte[])valid.Clone();
            bytes[at] ^= (byte)(1 << random.Next(8));
            yield return ($"{label} bit flipped at {at}", bytes);
        }
    }

    [Fact]
    public void Corrupt_run_state_text_and_tensor_files_end_in_a_clean_error_or_a_valid_result()
    {
        using var folder = new TempFolder();
        var outcomes = new Outcomes();
        var random = new Random(19);

        // Lottery Ticket state: round 1's masks, weights and result corrupted; a second round resumes from them.
        string data = ReliabilityTests.Data(folder, count: 32), state = folder.File("lth");
        string[] Lth(int rounds) =>
            ["lth", "--model", "lenet-300-100", "--data", data, "--rounds", rounds.ToString(System.Globalization.CultureInfo.InvariantCulture),
             "--epochs", "1", "--batch-size", "16", "--out", state];
        var (code, _, error) = Invoke(Lth(1));
        Assert.True(code == 0, error);
        var pristine = Directory.GetFiles(state, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        foreach (string file in new[] { "masks.safetensors", "weights.bin", "ticket.json" })
        {
            string path = Path.Combine(state, "round-01", file);
            Assert.True(pristine.ContainsKey(path), $"lth wrote no {path}");
            foreach (var (name, bytes) in Corruptions($"lth round-01/{file}", pristine[path], random))
            {
                outcomes.Cases++;
                Directory.Delete(state, recursive: true);
                foreach (var (f, content) in pristine)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(f)!);
                    File.WriteAllBytes(f, content);
                }
                File.WriteAllBytes(path, bytes);
                Judge(outcomes, name, Lth(2), null);
            }
        }

        // Text corpora for a language model.
        string text = folder.File("corpus.txt"), output = folder.File("gpt.onnx");
        string[] TrainText() =>
            ["train", "--model", "tiny-gpt", "--data", text, "--gpt-layers", "1", "--gpt-heads", "1", "--gpt-width", "8", "--context", "8",
             "--epochs", "1", "-o", output];
        var noise = new byte[4096];
        random.NextBytes(noise);
        var texts = new List<(string Name, byte[] Bytes)>
        {
            ("text empty", []),
            ("text of 3 bytes", "abc"u8.ToArray()),
            ("text of random bytes", noise),
            ("text of NUL bytes", new byte[2048]),
            ("text with invalid UTF-8", [.. Enumerable.Repeat((byte)0xC3, 600), .. "and then words"u8.ToArray()]),
            ("text in UTF-16 with a byte-order mark", [0xFF, 0xFE, .. System.Text.Encoding.Unicode.GetBytes(string.Concat(Enumerable.Repeat("In the beginning. ", 40)))]),
        };
        foreach (var (name, bytes) in texts)
        {
            outcomes.Cases++;
            File.WriteAllBytes(text, bytes);
            File.Delete(output);
            Judge(outcomes, name, TrainText(), output);
        }

        // Tensors given to a model's input (--input NAME=FILE.npy).
        string model = folder.File("m.onnx"), npy = folder.File("input.npy");
        OnnxFile.Write(TestGraphs.SmallCnn(), model);
        using (var valid = TorchSharp.torch.randn(2, 3, 8, 8)) PruneSharp.Data.Inputs.NpyFile.Write(npy, valid);
        byte[] tensor = File.ReadAllBytes(npy);
        var tensors = Corruptions("npy", tensor, random).ToList();
        using (var wrongShape = TorchSharp.torch.randn(2, 4, 8, 8)) PruneSharp.Data.Inputs.NpyFile.Write(npy, wrongShape);
        tensors.Add(("npy of the wrong shape", File.ReadAllBytes(npy)));
        string header = System.Text.Encoding.ASCII.GetString(tensor, 10, tensor[8] | tensor[9] << 8);
        foreach (var (label, from, to) in new[]
        {
            ("npy of complex numbers", "'<f4'", "'<c8'"),
            ("npy in Fortran order", "False", "True"),
            ("npy claiming 2^40 elements", "(2, 3, 8, 8)", "(1099511627776,)"),
        })
        {
            Assert.Contains(from, header);
            // The header is padded with spaces before its newline: take the difference out of (or into) the padding.
            string changed = header.Replace(from, to);
            int excess = changed.Length - header.Length;
            changed = excess > 0 ? changed.Remove(changed.Length - 1 - excess, excess) : changed.Insert(changed.Length - 1, new string(' ', -excess));
            var bytes = (byte[])tensor.Clone();
            System.Text.Encoding.ASCII.GetBytes(changed).CopyTo(bytes, 10);
            tensors.Add((label, bytes));
        }
        foreach (var (name, bytes) in tensors)
        {
            outcomes.Cases++;
            File.WriteAllBytes(npy, bytes);
            Judge(outcomes, name, ["check", model, "--input", $"input={npy}", "--samples", "1"], null);
        }
        log.WriteLine($"run state, text and tensors: {outcomes.Cases} cases = {outcomes.Runs} runs: {outcomes.CleanErrors} clean errors, {outcomes.ValidResults} valid results, {outcomes.Failures.Count} failures");
        Assert.True(outcomes.Failures.Count == 0, string.Join("\n", outcomes.Failures));
        Assert.Empty(Directory.EnumerateFiles(folder.Path, "*.tmp", SearchOption.AllDirectories));
    }
}
