using PruneSharp.Build;

namespace PruneSharp.Tests.Build;

public class ElfVersionNeedsTests
{
    const string Version = "GLIBCXX_3.4.32";
    static readonly string[] Marker = { "_ZSt21ios_base_library_initv" };

    /// <summary>The unpatched library as NuGet delivered it (the build patches only the output copies).</summary>
    static byte[] PristineLibrary()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"restore should have put the TorchSharp package at {path}");
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void Library_needs_GLIBCXX_3_4_32_only_for_the_iostream_marker()
    {
        var need = Assert.Single(ElfVersionNeeds.Read(PristineLibrary()), n => n.Version == Version);
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.Equal(0, need.Flags & ElfVersionNeeds.VerFlagWeak);
        Assert.Equal(Marker, need.Symbols.Distinct());
    }

    [Fact]
    public void MakeWeak_sets_the_flag_on_exactly_that_entry_and_changes_nothing_else()
    {
        byte[] original = PristineLibrary();
        byte[] patched = (byte[])original.Clone();

        Assert.True(ElfVersionNeeds.MakeWeak(patched, "libstdc++.so.6", Version, Marker));

        var before = ElfVersionNeeds.Read(original);
        var after = ElfVersionNeeds.Read(patched);
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++)
        {
            ushort expected = before[i].Version == Version ? (ushort)(before[i].Flags | ElfVersionNeeds.VerFlagWeak) : before[i].Flags;
            Assert.Equal(expected, after[i].Flags);
        }

        long flagsAt = before.Single(n => n.Version == Version).FlagsOffset;
        var differing = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        Assert.NotEmpty(differing);
        Assert.All(differing, i => Assert.InRange(i, flagsAt, flagsAt + 1));
    }

    [Fact]
    public void MakeWeak_is_idempotent()
    {
        byte[] patched = PristineLibrary();
        Assert.True(ElfVersionNeeds.MakeWeak(patched, "libstdc++.so.6", Version, Marker));
        byte[] again = (byte[])patched.Clone();
        Assert.False(ElfVersionNeeds.MakeWeak(again, "libstdc++.so.6", Version, Marker));
        Assert.Equal(patched, again);
    }

    [Fact]
    public void MakeWeak_refuses_when_a_real_symbol_needs_the_version()
    {
        byte[] image = PristineLibrary();
        var error = Assert.Throws<InvalidOperationException>(() =>
            ElfVersionNeeds.MakeWeak(image, "libstdc++.so.6", Version, Array.Empty<string>()));
        Assert.Contains("_ZSt21ios_base_library_initv", error.Message);
    }

    [Fact]
    public void Read_rejects_files_that_are_not_ELF()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(new byte[100]));
        byte[] truncated = PristineLibrary()[..4096];
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(truncated));
    }

    [Fact]
    public void Output_copy_loads_on_this_host()
    {
        // The build patched the copy next to the test assembly where the host needed it; loading proves it worked.
        PruneSharp.Engine.TorchEngine.EnsureLoaded();
    }
}
