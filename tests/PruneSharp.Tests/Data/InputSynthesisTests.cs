using PruneSharp.Data.Inputs;
using PruneSharp.Graph;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Data;

public class InputSynthesisTests
{
    [Fact]
    public void Values_are_read_from_how_the_graph_uses_each_input()
    {
        var graph = MultiInputModel.Build();
        var plans = InputSynthesis.Plan(graph, new InputSynthesisOptions()).ToDictionary(p => p.Name);
        Assert.Equal((InputValueKind.Integers, 0L, MultiInputModel.Vocabulary), (plans["input_ids"].Values.Kind, plans["input_ids"].Values.Low, plans["input_ids"].Values.High));
        Assert.Contains("word.weight", plans["input_ids"].Values.Reason);
        Assert.Equal((InputValueKind.Integers, 0L, MultiInputModel.Types), (plans["token_type_ids"].Values.Kind, plans["token_type_ids"].Values.Low, plans["token_type_ids"].Values.High));
        Assert.Equal(InputValueKind.Ones, plans["attention_mask"].Values.Kind);
        // Batch 1; the sequence is capped at the 16 rows of the position table.
        Assert.All(plans.Values, p => Assert.Equal(new long[] { 1, MultiInputModel.Positions }, p.Shape));
    }

    [Fact]
    public void Synthesised_inputs_stay_in_the_tables_and_run_through_the_executor()
    {
        var graph = MultiInputModel.Build();
        var inputs = InputSynthesis.Synthesize(graph, new InputSynthesisOptions { BatchSize = 64, SequenceLength = 12 }, seed: 3);
        Assert.All(inputs, t => Assert.Equal(new long[] { 64, 12 }, t.shape));
        Assert.InRange(inputs[0].min().item<long>(), 0, 0);
        Assert.Equal(MultiInputModel.Vocabulary - 1, inputs[0].max().item<long>()); // 768 draws reach the last row
        Assert.True(inputs[1].eq(1).all().item<bool>());
        Assert.Equal(1, inputs[2].max().item<long>());
        using var module = new GraphModule(graph);
        using var _ = no_grad();
        var output = module.Run(inputs)[0];
        Assert.Equal(new long[] { 64, 12, MultiInputModel.Hidden }, output.shape);
        Assert.False(output.isnan().any().item<bool>());
    }

    [Fact]
    public void A_given_shape_or_tensor_sets_the_shared_symbols_of_the_other_inputs()
    {
        var graph = MultiInputModel.Build();
        var shaped = InputSynthesis.Plan(graph, new InputSynthesisOptions { Shapes = new Dictionary<string, long[]> { ["input_ids"] = new long[] { 2, 5 } } });
        Assert.All(shaped, p => Assert.Equal(new long[] { 2, 5 }, p.Shape));

        var ids = tensor(new long[] { 1, 2, 3 }).reshape(1, 3);
        var given = InputSynthesis.Plan(graph, new InputSynthesisOptions { Given = new Dictionary<string, Tensor> { ["input_ids"] = ids } });
        Assert.Same(ids, given[0].Given);
        Assert.All(given, p => Assert.Equal(new long[] { 1, 3 }, p.Shape));
    }

    [Fact]
    public void Unknown_names_wrong_ranks_and_disagreeing_sizes_are_refused()
    {
        var graph = MultiInputModel.Build();
        var unknown = Assert.Throws<ArgumentException>(() => InputSynthesis.Plan(graph, new InputSynthesisOptions { Shapes = new Dictionary<string, long[]> { ["ids"] = new long[] { 1, 2 } } }));
        Assert.Contains("'ids' is not an input of the model (inputs: input_ids, attention_mask, token_type_ids)", unknown.Message);
        var rank = Assert.Throws<ArgumentException>(() => InputSynthesis.Plan(graph, new InputSynthesisOptions { Shapes = new Dictionary<string, long[]> { ["input_ids"] = new long[] { 1, 2, 3 } } }));
        Assert.Contains("rank 2", rank.Message);
        var disagree = Assert.Throws<ArgumentException>(() => InputSynthesis.Plan(graph, new InputSynthesisOptions
        {
            Shapes = new Dictionary<string, long[]> { ["input_ids"] = new long[] { 1, 4 }, ["attention_mask"] = new long[] { 1, 5 } },
        }));
        Assert.Contains("'sequence'", disagree.Message);
    }

    [Fact]
    public void Inputs_that_index_nothing_fall_back_to_the_given_range_and_floats_are_normal()
    {
        var b = new GraphBuilder("plain");
        var x = b.Input("x", null, 3);
        var n = b.Int64Input("n", 2);
        b.Output(b.Linear(x, 2, "fc"), "y");
        b.Output(n, "n_out");
        var plans = InputSynthesis.Plan(b.Graph, new InputSynthesisOptions { IntLow = 5, IntHigh = 9 });
        Assert.Equal(InputValueKind.Normal, plans[0].Values.Kind);
        Assert.Equal(new long[] { 1, 3 }, plans[0].Shape);
        Assert.Equal((InputValueKind.Integers, 5L, 9L), (plans[1].Values.Kind, plans[1].Values.Low, plans[1].Values.High));
    }
}
