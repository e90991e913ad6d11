using System.Text;
using PruneSharp.Tests.Support;

namespace PruneSharp.Tests.Onnx;

/// <summary>
/// ONNX's node conformance tests (Debian's libonnx-testdata) run through the ONNX reader and <see cref="PruneSharp.Graph.GraphModule"/>.
/// Every test whose ops the executor supports must match ONNX's reference outputs, except the short list below.
/// Tests using an unsupported op or opset are not failures; docs/conformance.md counts them.
/// </summary>
public class ConformanceTests
{
    /// <summary>Supported tests known to fail, with the reason. Each must still fail, so the list stays honest.</summary>
    static readonly Dictionary<string, string> ExpectedFailures = new(StringComparer.Ordinal)
    {
        // ONNX 1.12's test data stores bfloat16 values in UINT16 tensors, a type PruneSharp cannot hold.
        ["test_cast_BFLOAT16_to_FLOAT"] = "bfloat16 test data stored as UINT16",
        ["test_cast_FLOAT_to_BFLOAT16"] = "bfloat16 test data stored as UINT16",
        ["test_castlike_BFLOAT16_to_FLOAT"] = "bfloat16 test data stored as UINT16",
        ["test_castlike_BFLOAT16_to_FLOAT_expanded"] = "bfloat16 test data stored as UINT16",
        ["test_castlike_FLOAT_to_BFLOAT16"] = "bfloat16 test data stored as UINT16",
        ["test_castlike_FLOAT_to_BFLOAT16_expanded"] = "bfloat16 test data stored as UINT16",
        // Dropout with training_mode=true and a non-zero ratio: the reference outputs hold NumPy's random mask, and
        // the executor applies dropout only while the module trains (the suite runs in eval mode).
        ["test_training_dropout"] = "random dropout mask of the reference",
        ["test_training_dropout_default"] = "random dropout mask of the reference",
        ["test_training_dropout_default_mask"] = "random dropout mask of the reference",
        ["test_training_dropout_mask"] = "random dropout mask of the reference",
    };

    public static IEnumerable<object[]> SupportedTests() =>
        NodeTestSuite.Cases.Where(c => c.Unsupported == null).Select(c => new object[] { c.Name });

    [RequiresPathTheory(NodeTestSuite.Root, "libonnx-testdata")]
    [MemberData(nameof(SupportedTests))]
    public void Node_test_matches_the_reference_outputs(string test)
    {
        string? failure = NodeTestSuite.Run(test);
        if (ExpectedFailures.TryGetValue(test, out string? reason))
            Assert.True(failure != null, $"{test} is listed as an expected failure ({reason}) but passes now: remove it from the list");
        else
            Assert.True(failure == null, $"{test}: {failure}");
    }

    [RequiresPathFact(NodeTestSuite.Root, "libonnx-testdata")]
    public void Expected_failures_name_supported_tests()
    {
        var supported = NodeTestSuite.Cases.Where(c => c.Unsupported == null).Select(c => c.Name).ToHashSet();
        Assert.Empty(ExpectedFailures.Keys.Where(name => !supported.Contains(name)));
    }

    /// <summary>Regenerates docs/conformance.md: set PRUNESHARP_CONFORMANCE_SUMMARY=1 and run this test.</summary>
    [OptInFact("PRUNESHARP_CONFORMANCE_SUMMARY")]
    public void Write_conformance_summary()
    {
        Assert.True(Directory.Exists(NodeTestSuite.Root), $"{NodeTestSuite.Root} is absent (apt-get install libonnx-testdata)");
        var results = NodeTestSuite.Cases.Select(c => (Case: c, Failure: c.Unsupported == null ? NodeTestSuite.Run(c.Name) : null)).ToList();
        int passed = results.Count(r => r.Case.Unsupported == null && r.Failure == null);
        int failed = results.Count(r => r.Failure != null);
        int unsupported = results.Count(r => r.Case.Unsupported != null);

        var text = new StringBuilder();
        text.AppendLine("# ONNX node conformance");
        text.AppendLine();
        text.AppendLine("ONNX's own node tests (Debian package libonnx-testdata 1.12, /usr/share/libonnx-testdata/data/node) run through");
        text.AppendLine("`OnnxFile.Read` and `GraphModule` in eval mode; outputs must match in type and shape, floats within rtol 1e-3 /");
        text.AppendLine("atol 1e-5 (NaN matches NaN), integers and booleans exactly. A test is *unsupported* when its model uses an op");
        text.AppendLine("the executor does not have, a non-default domain, an opset outside 7..21 (the package's oldest tests use opsets 1..10;");
        text.AppendLine("7..10 are upgraded to opset 11 on import, and a test whose op has no upgrade counts as unsupported),");
        text.AppendLine("or inputs/outputs that are not tensors of a type TorchSharp holds (sequences, optionals, strings, uint16/32/64).");
        text.AppendLine();
        text.AppendLine("Regenerate: `PRUNESHARP_CONFORMANCE_SUMMARY=1 dotnet test tests/PruneSharp.Tests --filter Write_conformance_summary`.");
        text.AppendLine("The suite itself runs in `dotnet test` as `ConformanceTests.Node_test_matches_the_reference_outputs`.");
        text.AppendLine();
        text.AppendLine($"**{results.Count} tests: {passed} passed, {failed} failed, {unsupported} unsupported.**");
        text.AppendLine();
        text.AppendLine("## By op type");
        text.AppendLine();
        text.AppendLine("A test counts under every op type its model uses (function-expanded tests use several).");
        text.AppendLine();
        text.AppendLine("| op type | passed | failed | unsupported |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var group in results.SelectMany(r => r.Case.OpTypes.Select(op => (Op: op, r.Case, r.Failure))).GroupBy(x => x.Op).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            int p = group.Count(x => x.Case.Unsupported == null && x.Failure == null), f = group.Count(x => x.Failure != null), u = group.Count(x => x.Case.Unsupported != null);
            text.AppendLine($"| {group.Key} | {p} | {f} | {u} |");
        }
        text.AppendLine();
        text.AppendLine("## Failures");
        text.AppendLine();
        foreach (var (c, failure) in results.Where(r => r.Failure != null))
            text.AppendLine($"- `{c.Name}`: {(ExpectedFailures.TryGetValue(c.Name, out var reason) ? reason + " — " : "")}{failure!.Replace("|", "\\|")}");
        text.AppendLine();
        text.AppendLine("## Unsupported, by reason");
        text.AppendLine();
        foreach (var group in results.Where(r => r.Case.Unsupported != null).GroupBy(r => Reason(r.Case.Unsupported!)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
            text.AppendLine($"- {group.Key}: {group.Count()}");

        string path = Path.Combine(RepositoryRoot(), "docs", "conformance.md");
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, text.ToString());
        File.Move(temporary, path, overwrite: true);
    }

    // "op X is not supported at opset 13" → "op X is not supported", so that one op's tests group together.
    static string Reason(string why) => why.Contains(" at opset ") ? why[..why.IndexOf(" at opset ", StringComparison.Ordinal)] : why;

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PruneSharp.sln"))) return dir.FullName;
        throw new InvalidOperationException("PruneSharp.sln not found above the test binaries");
    }
}
