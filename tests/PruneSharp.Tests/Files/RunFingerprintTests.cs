using PruneSharp.Files;
using PruneSharp.Tests.Support;
using PruneSharp.Tests.Training;
using PruneSharp.Training;

namespace PruneSharp.Tests.Files;

public class RunFingerprintTests
{
    static RunFingerprint Of(params (string Key, string Value)[] values) => new(values.Select(v => new KeyValuePair<string, string>(v.Key, v.Value)));

    [Fact]
    public void Differences_name_changed_added_and_removed_keys_in_order()
    {
        var a = Of(("b", "1"), ("a", "x"), ("c", "same"));
        var b = Of(("a", "y"), ("c", "same"), ("d", "new"));
        Assert.Equal(new[] { "a", "b", "d" }, a.Differences(b));
        Assert.Empty(a.Differences(Of(("c", "same"), ("a", "x"), ("b", "1"))));
    }

    [Fact]
    public void A_recorded_fingerprint_is_checked_and_the_refusal_names_both_values()
    {
        using var folder = new TempFolder();
        string path = folder.File("fingerprint.json");
        Of(("model", "lenet-5"), ("lr", "0.01")).RecordOrCheck(path);
        Of(("lr", "0.01"), ("model", "lenet-5")).RecordOrCheck(path); // same values, other order: resumes
        var error = Assert.Throws<RunStateException>(() => Of(("model", "conv-2"), ("lr", "0.01")).RecordOrCheck(path));
        Assert.Contains("model: was lenet-5, now conv-2", error.Message);
        Assert.DoesNotContain("lr:", error.Message);
        File.WriteAllText(path, "[1, 2");
        Assert.Contains(path, Assert.Throws<RunStateException>(() => Of(("a", "b")).RecordOrCheck(path)).Message);
    }

    [Fact]
    public void Model_hash_follows_the_weights_and_data_hash_the_examples()
    {
        using var a = TinyModels.Mlp(1);
        using var b = TinyModels.Mlp(1);
        using var c = TinyModels.Mlp(2);
        Assert.Equal(RunFingerprint.Hash(a), RunFingerprint.Hash(b));
        Assert.NotEqual(RunFingerprint.Hash(a), RunFingerprint.Hash(c));
        Assert.Equal(RunFingerprint.Hash(TinyModels.Columns(90, 5)), RunFingerprint.Hash(TinyModels.Columns(90, 5)));
        Assert.NotEqual(RunFingerprint.Hash(TinyModels.Columns(90, 5)), RunFingerprint.Hash(TinyModels.Columns(91, 5)));
    }

    [Fact]
    public void A_checkpoint_keeps_its_fingerprint_and_refuses_to_resume_under_another()
    {
        using var folder = new TempFolder();
        string checkpoint = folder.File("run.ckpt");
        var data = TinyModels.Columns(32, 5);
        TrainerOptions Options(string lr) => new()
        {
            Epochs = 1, BatchSize = 16, CheckpointPath = checkpoint, Schedule = new ConstantSchedule(0.01),
            Fingerprint = Of(("--lr", lr), ("model", "mlp")),
        };
        using (var trainer = new Trainer(TinyModels.Mlp(3), Options("0.01"))) trainer.Fit(data);
        using (var read = Checkpoint.Read(checkpoint)) Assert.Equal("0.01", read.Fingerprint!.Values["--lr"]);
        using (var same = new Trainer(TinyModels.Mlp(3), Options("0.01"))) same.LoadCheckpoint(checkpoint);
        using var other = new Trainer(TinyModels.Mlp(3), Options("0.1"));
        var error = Assert.Throws<RunStateException>(() => other.LoadCheckpoint(checkpoint));
        Assert.Contains("--lr: was 0.01, now 0.1", error.Message);
        Assert.Contains(checkpoint, error.Message);
    }
}
