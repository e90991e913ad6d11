using PruneSharp.Pipelines;
using PruneSharp.Recipes;

namespace PruneSharp.Tests.Recipes;

/// <summary>Reading recipes: every problem at its line and column, overrides, identity.</summary>
public class RecipeTests
{
    const string Good = """
        model: lenet-300-100
        seed: 3
        stages:
          - method: magnitude
            sparsity: 0.5
          - method: random
            granularity: "2:4"
            sparsity: 0.5
        recovery:
          kind: none
        """;

    [Fact]
    public void Every_problem_is_reported_with_line_column_and_nearest_names()
    {
        const string text = """
            model: lenet-300-10
            data:
              source: fashion-mnist
              train_examples: two
            stages:
              - method: snp
                sparsity: 1.5
                granularity: "3:2"
              - metod: magnitude
                sparsity: 0.5
            recovery:
              kind: distil
              epochs: 1
              lr_schedule: cosin
            exprt:
              path: x.onnx
            """;
        var e = Assert.Throws<RecipeException>(() => Recipe.Parse(text, "bad.yaml"));
        var byPlace = e.Problems.Where(p => !p.Message.Contains("stages[1]")).ToDictionary(p => (p.Position.Line, p.Position.Column));
        Assert.All(e.Problems, p => Assert.Equal("bad.yaml", p.Position.File));
        Assert.Equal(new[] { "lenet-300-100" }, byPlace[(1, 8)].Suggestions);
        Assert.Contains("data.train_examples must be a whole number, got 'two'", byPlace[(4, 19)].Message);
        Assert.Equal(new[] { "snip" }, byPlace[(6, 13)].Suggestions);
        Assert.Contains("stages[0].sparsity must be in [0, 1), got 1.5", byPlace[(7, 15)].Message);
        Assert.Contains("stages[0].granularity '3:2'", byPlace[(8, 18)].Message);
        Assert.Equal(new[] { "method" }, e.Problems.Single(p => p.Message.StartsWith("unknown key 'stages[1].metod'")).Suggestions);
        Assert.Equal(new[] { "distill" }, byPlace[(12, 9)].Suggestions);
        Assert.Equal(new[] { "cosine" }, byPlace[(14, 16)].Suggestions);
        Assert.Equal(new[] { "export" }, byPlace[(15, 1)].Suggestions);
        // Sorted by position, and the text of each names file, line and column.
        Assert.Equal(e.Problems.OrderBy(p => p.Position.Line).ThenBy(p => p.Position.Column), e.Problems);
        Assert.StartsWith("bad.yaml:1:8: model 'lenet-300-10'", e.Problems[0].ToString());
    }

    [Fact]
    public void Structured_and_unstructured_stages_each_refuse_the_others_keys()
    {
        const string text = """
            model: lenet-5
            stages:
              - structure: channel
                method: tylor
                sparsity: 0.5
              - method: magnitude
                sparsity: 0.5
                ratio: 0.3
            """;
        var e = Assert.Throws<RecipeException>(() => Recipe.Parse(text, "c.yaml"));
        Assert.Equal(4, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.Position.Line == 4 && p.Suggestions!.SequenceEqual(new[] { "taylor" }));
        Assert.Contains(e.Problems, p => p.Position.Line == 5 && p.Message.StartsWith("stages[0].sparsity applies to unstructured stages"));
        Assert.Contains(e.Problems, p => p.Position.Line == 3 && p.Message.StartsWith("stages[0].ratio is required"));
        Assert.Contains(e.Problems, p => p.Position.Line == 8 && p.Message.StartsWith("stages[1].ratio applies to structured stages"));
    }

    [Fact]
    public void A_yaml_syntax_error_has_its_position()
    {
        var e = Assert.Throws<RecipeException>(() => Recipe.Parse("model: a\nstages: [\n  - x: 1\n", "broken.yaml"));
        var problem = Assert.Single(e.Problems);
        Assert.Equal("broken.yaml", problem.Position.File);
        Assert.True(problem.Position.Line >= 2, problem.ToString());
        Assert.Contains("not valid YAML", problem.Message);
    }

    [Theory]
    [InlineData("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", 2, 8, "aliases are not supported")]
    [InlineData("? {model: a}\n: b\n", 1, 3, "a key must be a plain value")]
    [InlineData("model: a\nseed: 1\nmodel: b\n", 3, 1, "the key 'model' is written twice")]
    [InlineData("stages:\n  - method: magnitude\n    sparsity: [0.5\nrecovery:\n  kind: none\n", 3, 15, "not valid YAML")]
    public void Hostile_yaml_is_one_problem_at_its_position(string text, int line, int column, string message)
    {
        var problem = Assert.Single(Assert.Throws<RecipeException>(() => Recipe.Parse(text, "bad.yaml")).Problems);
        Assert.Equal((line, column), (problem.Position.Line, problem.Position.Column));
        Assert.Contains(message, problem.Message);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused_without_recursing()
    {
        // Deep enough to overflow the stack of a recursive reader (YamlDotNet's representation model did).
        foreach (string text in new[] { "model: " + new string('[', 200_000), "model: " + string.Concat(Enumerable.Repeat("{a: ", 200_000)) })
        {
            var problem = Assert.Single(Assert.Throws<RecipeException>(() => Recipe.Parse(text, "deep.yaml")).Problems);
            Assert.Contains($"nested more than {RecipeNode.MaxDepth} levels", problem.Message);
        }
        string fine = "model: lenet-300-100\nstages:\n  - method: magnitude\n    exclude: " + new string('[', RecipeNode.MaxDepth - 3) + "fc3.*" + new string(']', RecipeNode.MaxDepth - 3) + "\n";
        Assert.DoesNotContain(Assert.Throws<RecipeException>(() => Recipe.Parse(fine, "deep.yaml")).Problems, p => p.Message.Contains("nested"));
    }

    [Fact]
    public void A_mapping_of_many_keys_is_read_and_a_repeated_key_found()
    {
        // Keys are checked against a set (a list lookup made a file of many keys quadratic).
        string text = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"k{i}: {i}\n"));
        Assert.Equal(20_000, Assert.IsType<MappingNode>(RecipeNode.Parse(text, "many.yaml")).Entries.Count);
        var problem = Assert.Single(Assert.Throws<RecipeException>(() => RecipeNode.Parse(text + "k5: 0\n", "many.yaml")).Problems);
        Assert.Equal((20_001, "the key 'k5' is written twice"), (problem.Position.Line, problem.Message));
    }

    [Fact]
    public void A_recipe_file_over_a_mebibyte_or_a_device_is_refused_unread()
    {
        using var folder = new Support.TempFolder();
        File.WriteAllText(folder.File("big.yaml"), Good + "\n# " + new string('x', Recipe.MaxBytes) + "\n");
        Assert.Contains("longer than 1 MiB", Assert.Single(Assert.Throws<RecipeException>(() => Recipe.Load(folder.File("big.yaml"))).Problems).Message);
        Assert.Contains("longer than 1 MiB", Assert.Single(Assert.Throws<RecipeException>(() => Recipe.Load("/dev/zero")).Problems).Message);
        File.WriteAllText(folder.File("good.yaml"), Good);
        Assert.Equal(2, Recipe.Load(folder.File("good.yaml")).Pipeline.Stages.Count);
    }

    [Fact]
    public void Overrides_replace_values_and_a_bare_stage_key_sets_every_stage()
    {
        var recipe = Recipe.Parse(Good, "good.yaml", new[] { RecipeOverride.Parse("sparsity=0.75"), RecipeOverride.Parse("stages[0].scope=global"), RecipeOverride.Parse("seed=9") });
        Assert.All(recipe.Pipeline.Stages, s => Assert.Equal(0.75, s.Sparsity));
        Assert.Equal("global", recipe.Pipeline.Stages[0].Scope);
        Assert.Equal("local", recipe.Pipeline.Stages[1].Scope);
        Assert.Equal(9, recipe.Pipeline.Seed);

        var e = Assert.Throws<RecipeException>(() => Recipe.Parse(Good, "good.yaml", new[] { RecipeOverride.Parse("stages.1.method=magnitde") }));
        var problem = Assert.Single(e.Problems);
        Assert.Equal("--set stages.1.method=magnitde", problem.Position.ToString());
        Assert.Equal(new[] { "magnitude" }, problem.Suggestions);
        Assert.Throws<ArgumentException>(() => RecipeOverride.Parse("no-equals-sign"));
    }

    [Fact]
    public void Identity_follows_what_runs_not_how_it_is_written()
    {
        var a = Recipe.Parse(Good, "a.yaml");
        // Same pipeline in flow style, other key order, an export path: same identity.
        var b = Recipe.Parse("""
            stages: [{sparsity: 0.5, method: magnitude}, {method: random, sparsity: 0.5, granularity: "2:4"}]
            recovery: {kind: none}
            seed: 3
            model: lenet-300-100
            """, "b.yaml");
        Assert.Equal(a.Identity, b.Identity);
        Assert.NotEqual(a.Identity, Recipe.Parse(Good, "a.yaml", new[] { RecipeOverride.Parse("seed=4") }).Identity);
        Assert.NotEqual(a.Identity, Recipe.Parse(Good, "a.yaml", new[] { RecipeOverride.Parse("stages.0.sparsity=0.6") }).Identity);
    }

    [Fact]
    public void Nearest_names_match_a_naive_edit_distance()
    {
        static int Naive(string a, string b) =>
            a.Length == 0 ? b.Length : b.Length == 0 ? a.Length
            : Math.Min(Math.Min(Naive(a[1..], b) + 1, Naive(a, b[1..]) + 1), Naive(a[1..], b[1..]) + (a[0] == b[0] ? 0 : 1));
        var random = new Random(5);
        for (int trial = 0; trial < 300; trial++)
        {
            string x = new(Enumerable.Range(0, random.Next(7)).Select(_ => "abc"[random.Next(3)]).ToArray());
            string y = new(Enumerable.Range(0, random.Next(7)).Select(_ => "abc"[random.Next(3)]).ToArray());
            Assert.Equal(Naive(x, y), NearestNames.Distance(x, y));
        }
        Assert.Equal(new[] { "global" }, NearestNames.Find("globl", PruningParts.Scopes));
        Assert.Empty(NearestNames.Find("zzzzzz", PruningParts.Scopes));
    }
}
