using System.CommandLine;
using PruneSharp.Cli.Commands;
using PruneSharp.Recipes;
using PruneSharp.Tests.Llm.Models;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Pipelines;

/// <summary>What the language-model checkpoint pipeline tests share: the <c>llm</c> and <c>run</c> verbs, the fixtures, calibration text, and a byte-for-byte folder comparison.</summary>
static class CheckpointRecipes
{
    /// <summary>Runs <c>prunesharp</c> with <c>llm</c> and <c>run</c> in process.</summary>
    public static (int Code, string Output, string Error) Invoke(params string[] args) =>
        CliInvocation.Run(new RootCommand("test") { LlmCommand.Create(), RunCommand.Create() }, args);

    /// <summary>The folder of the tiny checkpoint fixture <paramref name="name"/>.</summary>
    public static string Fixture(string name) => Path.Combine(TransformersReferenceTests.Folder, name);

    /// <summary>Writes <c>calibration.txt</c> in <paramref name="folder"/>: <paramref name="sentence"/> twenty times.</summary>
    public static string Text(TempFolder folder, string sentence)
    {
        string text = folder.File("calibration.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat(sentence, 20)));
        return text;
    }

    /// <summary>Asserts that <paramref name="actual"/> holds the files of <paramref name="expected"/>, safetensors among them, byte for byte.</summary>
    public static void SameFiles(string expected, string actual)
    {
        var files = Directory.GetFiles(expected).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(files, Directory.GetFiles(actual).Select(Path.GetFileName).Order());
        Assert.Contains(files, f => f!.EndsWith(".safetensors"));
        foreach (string file in files!)
            Assert.True(File.ReadAllBytes(Path.Combine(expected, file!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, file!))), $"{file} differs");
    }

    /// <summary>The problems reading the recipe at <paramref name="path"/> reports, as lines (it must have some).</summary>
    public static List<string> Problems(string path) => Assert.Throws<RecipeException>(() => Recipe.Load(path)).Problems.Select(p => p.ToString()).ToList();

    /// <summary>Asserts that one of <paramref name="problems"/> contains <paramref name="expected"/>.</summary>
    public static void Reported(IReadOnlyList<string> problems, string expected) =>
        Assert.True(problems.Any(p => p.Contains(expected)), $"'{expected}' not in:\n{string.Join("\n", problems)}");
}
