using PruneSharp.Pruning;
using PruneSharp.Pruning.Masks;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Pruning;

public class MaskSetTests
{
    static Tensor RandomKeep(Tensor weight, double keep, long seed)
    {
        using var g = new Generator((ulong)seed);
        return rand(weight.shape, generator: g).lt(keep);
    }

    public static TheoryData<string> Optimizers => new() { "sgd", "adam", "adamw" };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Pruned_weights_stay_zero_through_optimizer_steps_with_momentum_and_weight_decay(string kind)
    {
        using var model = TestModels.Mlp();
        var x = randn(32, 12);
        var y = randint(0, 4, 32);
        optim.Optimizer optimizer = kind switch
        {
            "sgd" => optim.SGD(model.parameters(), 0.05, momentum: 0.9, weight_decay: 0.01),
            "adam" => optim.Adam(model.parameters(), 0.01, weight_decay: 0.01),
            _ => optim.AdamW(model.parameters(), 0.01, weight_decay: 0.1),
        };
        using var masks = new MaskSet(model);
        // Train dense first so momentum / Adam moments are non-zero everywhere when the masks arrive.
        for (int step = 0; step < 5; step++)
        {
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.call(x), y).backward();
            optimizer.step();
        }
        masks.Prune("fc1.weight", RandomKeep(masks.Parameter("fc1.weight"), 0.3, 5));
        masks.Prune("fc2.weight", RandomKeep(masks.Parameter("fc2.weight"), 0.5, 6));
        var kept1 = masks.Mask("fc1.weight").clone();
        var before = masks.Parameter("fc1.weight").detach().clone();
        for (int step = 0; step < 10; step++)
        {
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.call(x), y).backward();
            masks.MaskGradients();
            Assert.Equal(0, TestModels.NonZeros(masks.Parameter("fc1.weight").grad!.mul(kept1.logical_not())));
            optimizer.step();
            masks.Apply();
            foreach (var name in masks.Names)
                Assert.Equal(0, TestModels.NonZeros(masks.Parameter(name).mul(masks.Mask(name).logical_not())));
        }
        // Survivors did train.
        Assert.False(masks.Parameter("fc1.weight").detach().mul(kept1).allclose(before.mul(kept1)));
    }

    [Fact]
    public void Without_reapplying_after_the_step_momentum_revives_pruned_weights()
    {
        // The reason Apply() after the step exists: masking gradients alone is not enough with momentum.
        using var model = TestModels.Mlp();
        var x = randn(32, 12);
        var y = randint(0, 4, 32);
        var optimizer = optim.SGD(model.parameters(), 0.05, momentum: 0.9);
        for (int step = 0; step < 3; step++)
        {
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.call(x), y).backward();
            optimizer.step();
        }
        using var masks = new MaskSet(model);
        masks.Prune("fc1.weight", zeros(16, 12, dtype: ScalarType.Bool));
        optimizer.zero_grad();
        nn.functional.cross_entropy(model.call(x), y).backward();
        masks.MaskGradients();
        optimizer.step();
        Assert.True(TestModels.NonZeros(masks.Parameter("fc1.weight")) > 0);
        masks.Apply();
        Assert.Equal(0, TestModels.NonZeros(masks.Parameter("fc1.weight")));
    }

    [Fact]
    public void A_second_prune_ands_into_the_first()
    {
        using var model = TestModels.Mlp();
        using var masks = new MaskSet(model);
        var w = masks.Parameter("fc2.weight");
        var first = RandomKeep(w, 0.5, 1);
        var second = RandomKeep(w, 0.5, 2);
        masks.Prune("fc2.weight", first);
        masks.Prune("fc2.weight", second);
        Assert.True(TestModels.Same(masks.Mask("fc2.weight"), first.logical_and(second)));
        Assert.Equal(TestModels.NonZeros(first.logical_and(second)), masks.Kept("fc2.weight"));
    }

    [Fact]
    public void Masks_can_be_applied_in_every_forward_pass()
    {
        using var model = TestModels.Mlp();
        var masks = new MaskSet(model);
        masks.Prune("fc1.weight", zeros(16, 12, dtype: ScalarType.Bool));
        masks.ApplyBeforeEveryForward();
        using (no_grad()) masks.Parameter("fc1.weight").fill_(1);
        var x = randn(3, 12);
        model.call(x);
        Assert.Equal(0, TestModels.NonZeros(masks.Parameter("fc1.weight")));
        masks.Dispose();
        using (no_grad()) masks.Parameter("fc1.weight").fill_(1);
        model.call(x);
        Assert.Equal(192, TestModels.NonZeros(masks.Parameter("fc1.weight")));
    }

    [Fact]
    public void Make_permanent_drops_masks_and_leaves_zeros()
    {
        using var model = TestModels.Mlp();
        using var masks = new MaskSet(model);
        var keep = RandomKeep(masks.Parameter("fc1.weight"), 0.4, 3);
        masks.Prune("fc1.weight", keep);
        masks.MakePermanent();
        Assert.Empty(masks.Names);
        Assert.Equal(TestModels.NonZeros(keep), TestModels.NonZeros(masks.Parameter("fc1.weight")));
    }

    [Fact]
    public void Masks_round_trip_through_a_file_and_a_stream()
    {
        using var model = TestModels.Cnn();
        using var masks = new MaskSet(model);
        masks.Prune("conv2.weight", RandomKeep(masks.Parameter("conv2.weight"), 0.3, 4));
        masks.Prune("fc.weight", RandomKeep(masks.Parameter("fc.weight"), 0.6, 5));
        string dir = Directory.CreateTempSubdirectory("prunesharp-masks").FullName;
        try
        {
            string path = Path.Combine(dir, "masks.safetensors");
            MaskFile.Save(masks, path);
            Assert.Single(Directory.GetFiles(dir));
            using var fresh = TestModels.Cnn(seed: 99);
            using var loaded = new MaskSet(fresh);
            MaskFile.Load(loaded, path);
            Assert.Equal(masks.Names, loaded.Names);
            foreach (var name in masks.Names)
            {
                Assert.True(TestModels.Same(loaded.Mask(name), masks.Mask(name)));
                Assert.Equal(0, TestModels.NonZeros(loaded.Parameter(name).mul(loaded.Mask(name).logical_not())));
            }

            // The same bytes go into a checkpoint's extra state through a stream.
            using var stream = new MemoryStream();
            MaskFile.Write(masks.StateDict(), stream);
            Assert.Equal(File.ReadAllBytes(path), stream.ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Loading_masks_of_another_model_names_the_parameter()
    {
        using var cnn = TestModels.Cnn();
        using var masks = new MaskSet(cnn);
        masks.Prune("conv2.weight", ones(8, 8, 3, 3, dtype: ScalarType.Bool));
        using var stream = new MemoryStream();
        MaskFile.Write(masks.StateDict(), stream);
        stream.Position = 0;
        var read = MaskFile.Read(stream);
        using var mlp = TestModels.Mlp();
        using var other = new MaskSet(mlp);
        var error = Assert.Throws<PruningException>(() => other.LoadStateDict(read));
        Assert.Contains("'conv2.weight'", error.Message);

        var truncated = new MemoryStream(stream.ToArray()[..^5]);
        Assert.Contains("truncated", Assert.Throws<PruningException>(() => MaskFile.Read(truncated, "m.safetensors")).Message);
        var garbage = new MemoryStream(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 });
        Assert.Contains("m.safetensors", Assert.Throws<PruningException>(() => MaskFile.Read(garbage, "m.safetensors")).Message);
    }

    [Fact]
    public void Unknown_parameter_and_wrong_shape_are_clear_errors()
    {
        using var model = TestModels.Mlp();
        using var masks = new MaskSet(model);
        var unknown = Assert.Throws<PruningException>(() => masks.Prune("fc9.weight", ones(2, 2)));
        Assert.Contains("'fc9.weight'", unknown.Message);
        Assert.Contains("fc1.weight", unknown.Message);
        var shape = Assert.Throws<PruningException>(() => masks.Prune("fc1.weight", ones(2, 2)));
        Assert.Contains("[2,2]", shape.Message);
        Assert.Contains("[16,12]", shape.Message);
    }

    [Fact]
    public void Snapshot_restores_initial_weights_under_the_current_masks()
    {
        using var model = TestModels.Mlp();
        using var snapshot = WeightSnapshot.Capture(model);
        using var masks = new MaskSet(model);
        var initial = masks.Parameter("fc1.weight").detach().clone();
        using (no_grad()) masks.Parameter("fc1.weight").add_(1);
        var keep = RandomKeep(initial, 0.5, 7);
        masks.Prune("fc1.weight", keep);
        snapshot.Restore(model, masks);
        Assert.True(TestModels.Same(masks.Parameter("fc1.weight"), initial.mul(keep)));
        Assert.True(TestModels.Same(masks.Parameter("fc2.weight"), snapshot["fc2.weight"]));
    }
}
