using PruneSharp.Data;
using PruneSharp.Data.Inputs;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Data;

/// <summary>The .npy/.npz reader against files NumPy wrote (Fixtures/Npy/make.py), and a round trip through the writer.</summary>
public class NpyFileTests
{
    static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "Fixtures", "Npy", name);

    [Fact]
    public void Reads_what_numpy_wrote()
    {
        var f32 = NpyFile.Read(Fixture("f32.npy"));
        Assert.Equal(ScalarType.Float32, f32.dtype);
        Assert.Equal(new long[] { 2, 3 }, f32.shape);
        Assert.Equal(new[] { 0f, 0.25f, 0.5f, 0.75f, 1f, 1.25f }, f32.data<float>().ToArray());
        Assert.Equal(new[] { 1.5, -2.25, 1e-300 }, NpyFile.Read(Fixture("f64.npy")).data<double>().ToArray());
        var i64 = NpyFile.Read(Fixture("i64.npy"));
        Assert.Equal(new long[] { 2, 3 }, i64.shape);
        Assert.Equal(new[] { 0L, 1, 1L << 40, -3, 4, 5 }, i64.data<long>().ToArray());
        Assert.Equal(new[] { 7, -8 }, NpyFile.Read(Fixture("i32.npy")).data<int>().ToArray());
        Assert.Equal(new[] { true, false, false, true }, NpyFile.Read(Fixture("bool.npy")).data<bool>().ToArray());
        var scalar = NpyFile.Read(Fixture("scalar.npy"));
        Assert.Equal((0L, 3.5f), (scalar.dim(), scalar.item<float>()));
    }

    [Fact]
    public void Reads_npz_archives_stored_and_compressed()
    {
        var arrays = NpyFile.ReadArchive(Fixture("inputs.npz"));
        Assert.Equal(new[] { "attention_mask", "input_ids" }, arrays.Keys.Order());
        Assert.Equal(new[] { 1L, 2, 3 }, arrays["input_ids"].data<long>().ToArray());
        Assert.Equal(new[] { 0f, 1, 2, 3 }, NpyFile.ReadArchive(Fixture("compressed.npz"))["x"].data<float>().ToArray());
    }

    [Theory]
    [InlineData("f32_be.npy", "element type '>f4' is not supported")]
    [InlineData("u8.npy", "element type '|u1' is not supported")]
    [InlineData("fortran.npy", "Fortran order")]
    public void Refuses_what_it_does_not_read_naming_the_file(string name, string problem)
    {
        var e = Assert.Throws<DataFormatException>(() => NpyFile.Read(Fixture(name)));
        Assert.StartsWith(Fixture(name), e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Refuses_other_files_and_truncated_data()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("text.npy"), "hello");
        Assert.Contains("no \\x93NUMPY magic", Assert.Throws<DataFormatException>(() => NpyFile.Read(folder.File("text.npy"))).Message);
        var bytes = File.ReadAllBytes(Fixture("f32.npy"));
        File.WriteAllBytes(folder.File("short.npy"), bytes[..^4]);
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => NpyFile.Read(folder.File("short.npy"))).Message);
        File.WriteAllText(folder.File("bad.npz"), "not a zip");
        Assert.Contains("not a .npz", Assert.Throws<DataFormatException>(() => NpyFile.ReadArchive(folder.File("bad.npz"))).Message);
        Assert.Throws<DataNotFoundException>(() => NpyFile.Read(folder.File("missing.npy")));
    }

    [Fact]
    public void Round_trips_every_supported_type()
    {
        using var folder = new TempFolder();
        foreach (var value in new[] { randn(3, 4), randn(2, dtype: float64), randint(-5, 5, new long[] { 2, 2, 2 }, int64), tensor(new[] { 3, -4 }), rand(5) < 0.5, tensor(2f) })
        {
            NpyFile.Write(folder.File("x.npy"), value);
            var read = NpyFile.Read(folder.File("x.npy"));
            Assert.Equal(value.dtype, read.dtype);
            Assert.Equal(value.shape, read.shape);
            Assert.True(read.eq(value).all().item<bool>());
        }
        // numpy reads what we write (when python with numpy is there).
        if (File.Exists("/usr/bin/python3"))
        {
            NpyFile.Write(folder.File("y.npy"), tensor(new long[] { 4, 5, 6 }).reshape(3, 1));
            var python = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/python3",
                new[] { "-c", $"import numpy as np; a = np.load('{folder.File("y.npy")}'); print(a.dtype, a.shape, a.sum())" }) { RedirectStandardOutput = true })!;
            string printed = python.StandardOutput.ReadToEnd().Trim();
            python.WaitForExit();
            if (python.ExitCode == 0) Assert.Equal("int64 (3, 1) 15", printed);
        }
    }
}
