using PruneSharp.Files;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Files;

[Collection(SerialCollection.Name)] // RemovePending and the warning event are process-wide
public class AtomicFileTests
{
    static string[] Temporaries(TempFolder folder) => Directory.GetFiles(folder.Path, ".*.tmp");

    /// <summary>A process id that no running process has (ids are below 2^22 on Linux).</summary>
    const int Gone = 4_194_999;

    [Fact]
    public void A_failed_write_keeps_the_old_content_and_leaves_no_temporary()
    {
        using var folder = new TempFolder();
        string path = folder.File("out.bin");
        File.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.WriteByte(1);
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Empty(Temporaries(folder));
    }

    [Fact]
    public void Temporaries_of_killed_writers_are_removed_by_the_next_write_and_others_are_kept()
    {
        using var folder = new TempFolder();
        string path = folder.File("out.onnx");
        string killed = folder.File($".out.onnx.{Gone}-{Guid.NewGuid():N}.tmp");
        string older = folder.File($".out.onnx.{Guid.NewGuid():N}.tmp"); // the name earlier releases gave
        string running = folder.File($".out.onnx.1-{Guid.NewGuid():N}.tmp"); // process 1 always runs
        string notOurs = folder.File(".out.onnx.notes.tmp");
        string otherTarget = folder.File($".other.onnx.{Gone}-{Guid.NewGuid():N}.tmp");
        foreach (string file in new[] { killed, older, running, notOurs, otherTarget }) File.WriteAllText(file, "partial");

        var warnings = new List<string>();
        void Warn(string message) => warnings.Add(message);
        AtomicFile.ConcurrentWriter += Warn;
        try
        {
            AtomicFile.Write(path, stream => stream.WriteByte(7));
        }
        finally
        {
            AtomicFile.ConcurrentWriter -= Warn;
        }
        Assert.Equal(new byte[] { 7 }, File.ReadAllBytes(path));
        Assert.False(File.Exists(killed));
        Assert.False(File.Exists(older));
        Assert.True(File.Exists(running));
        Assert.True(File.Exists(notOurs));
        Assert.True(File.Exists(otherTarget));
        // A live writer of the same target is reported: the last complete write wins.
        Assert.Contains(warnings, w => w.Contains("process 1 is writing", StringComparison.Ordinal) && w.Contains(path, StringComparison.Ordinal));
    }

    [Fact]
    public void RemovePending_deletes_the_files_being_written_and_the_target_keeps_its_content()
    {
        using var folder = new TempFolder();
        string path = folder.File("model.onnx");
        File.WriteAllText(path, "complete");
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.WriteByte(1);
            Assert.Single(Temporaries(folder));
            AtomicFile.RemovePending(); // what the signal handler does before the process ends
            Assert.Empty(Temporaries(folder));
        }));
        Assert.Equal("complete", File.ReadAllText(path));
        Assert.Empty(Temporaries(folder));
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        using var folder = new TempFolder();
        var error = Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(folder.File("no", "x.bin"), _ => { }));
        Assert.Contains(folder.File("no"), error.Message);
    }
}
