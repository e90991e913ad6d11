using System.Text.Json.Nodes;
using PruneSharp.Llm.Checkpoints;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Llm.Checkpoints;

public class HfCheckpointTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_every_tensor_as_float32_of_its_stored_values(bool sharded)
    {
        using var dir = new TempFolder();
        TestCheckpoints.Write(dir.Path, sharded);
        using var checkpoint = HfCheckpoint.Open(dir.Path);
        Assert.Equal("llama", checkpoint.Config["model_type"]!.GetValue<string>());
        Assert.Equal(SafetensorsDType.BF16, checkpoint.WeightDType);
        Assert.Equal(sharded ? 2 : 1, checkpoint.ShardFiles.Count);
        Assert.Equal(sharded, checkpoint.Index != null);
        var expected = TestCheckpoints.Tensors();
        Assert.Equal(expected.Select(t => t.Name).Order(), checkpoint.Names.Order());
        foreach (var (name, values, dtype) in expected)
        {
            using var read = checkpoint.Read(name);
            using var reference = values.to(dtype.ScalarType()).to(ScalarType.Float32);
            Assert.Equal(ScalarType.Float32, read.dtype);
            Assert.Equal(values.shape, checkpoint.Shape(name));
            Assert.Equal(reference.data<float>().ToArray(), read.data<float>().ToArray());
            values.Dispose();
        }
    }

    static CheckpointFormatException OpenFails(string folder) =>
        Assert.Throws<CheckpointFormatException>(() => HfCheckpoint.Open(folder).Dispose());

    static JsonObject Index(string folder) => JsonNode.Parse(File.ReadAllText(Path.Combine(folder, HfCheckpoint.IndexFile)))!.AsObject();

    [Theory]
    [InlineData("../model-00001-of-00002.safetensors")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/model.safetensors")]
    public void Index_naming_a_file_outside_the_folder_is_refused(string shard)
    {
        using var dir = new TempFolder();
        TestCheckpoints.Write(dir.Path, sharded: true);
        var index = Index(dir.Path);
        index["weight_map"]!["lm_head.weight"] = shard;
        TestCheckpoints.WriteIndex(dir.Path, index);
        Assert.Contains($"weight file '{shard}' is not a plain file name", OpenFails(dir.Path).Message);
    }

    [Fact]
    public void Shard_that_is_a_link_out_of_the_folder_is_refused()
    {
        using var dir = new TempFolder();
        string model = Path.Combine(dir.Path, "model");
        TestCheckpoints.Write(model, sharded: true);
        string shard = Path.Combine(model, "model-00002-of-00002.safetensors");
        File.Move(shard, Path.Combine(dir.Path, "elsewhere.safetensors"));
        File.CreateSymbolicLink(shard, Path.Combine(dir.Path, "elsewhere.safetensors"));
        Assert.Contains("outside the checkpoint folder", OpenFails(model).Message);
    }

    [Fact]
    public void Tensor_listed_in_the_index_but_missing_from_its_shard_is_refused()
    {
        using var dir = new TempFolder();
        TestCheckpoints.Write(dir.Path, sharded: true);
        var index = Index(dir.Path);
        index["weight_map"]!["model.layers.2.mlp.up_proj.weight"] = "model-00002-of-00002.safetensors";
        TestCheckpoints.WriteIndex(dir.Path, index);
        Assert.Contains("tensor 'model.layers.2.mlp.up_proj.weight' in 'model-00002-of-00002.safetensors', which does not hold it", OpenFails(dir.Path).Message);
    }

    [Fact]
    public void Shard_tensor_missing_from_the_index_is_refused()
    {
        using var dir = new TempFolder();
        TestCheckpoints.Write(dir.Path, sharded: true);
        var index = Index(dir.Path);
        index["weight_map"]!.AsObject().Remove("lm_head.weight");
        TestCheckpoints.WriteIndex(dir.Path, index);
        Assert.Contains("holds tensor 'lm_head.weight', which model.safetensors.index.json does not list", OpenFails(dir.Path).Message);
    }

    [Theory]
    [InlineData("{\"weight_map\": ", "is not valid JSON")]
    [InlineData("{\"metadata\": {}}", "has no weight_map object")]
    [InlineData("{\"weight_map\": {\"a\": 3}}", "weight_map.a is not a file name string")]
    [InlineData("{\"weight_map\": {\"a\": \"missing.safetensors\"}}", "weight file 'missing.safetensors' does not exist")]
    public void Garbled_index_is_refused(string text, string problem)
    {
        using var dir = new TempFolder();
        TestCheckpoints.Write(dir.Path, sharded: true);
        File.WriteAllText(Path.Combine(dir.Path, HfCheckpoint.IndexFile), text);
        var e = OpenFails(dir.Path);
        Assert.Contains(problem, e.Message);
        Assert.Contains(HfCheckpoint.IndexFile, e.Message);
    }

    [Fact]
    public void Pickle_weights_only_are_refused_with_advice_to_convert()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("config.json"), "{}");
        File.WriteAllBytes(dir.File("pytorch_model.bin"), [0x80, 2]);
        Assert.Contains("convert them to safetensors", OpenFails(dir.Path).Message);
    }

    [Fact]
    public void Missing_or_garbled_config_is_refused()
    {
        using var dir = new TempFolder();
        TestCheckpoints.Write(dir.Path, sharded: false);
        File.WriteAllText(dir.File("config.json"), "{\"hidden_size\": ");
        Assert.Contains("config.json: is not valid JSON", OpenFails(dir.Path).Message);
        File.Delete(dir.File("config.json"));
        Assert.Contains("has no config.json", OpenFails(dir.Path).Message);
    }
}
