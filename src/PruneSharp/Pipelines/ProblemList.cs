namespace PruneSharp.Pipelines;

/// <summary>The problems of a description, collected: each check that throws <see cref="ArgumentException"/> becomes one, with the nearest valid names.</summary>
sealed class ProblemList : List<PipelineProblem>
{
    /// <summary>Runs <paramref name="check"/>; its error becomes a problem of <paramref name="field"/>, with the names of <paramref name="names"/> nearest <paramref name="given"/>.</summary>
    public void Check(string field, Action check, IEnumerable<string>? names = null, string? given = null)
    {
        try
        {
            check();
        }
        catch (ArgumentException e)
        {
            Add(new PipelineProblem(field, e.Message, given is null || names is null ? Array.Empty<string>() : NearestNames.Find(given, names)));
        }
    }

    /// <summary>A problem of <paramref name="field"/> with <paramref name="message"/> unless <paramref name="ok"/>.</summary>
    public void Require(string field, bool ok, string message) => Check(field, () => { if (!ok) throw new ArgumentException(message); });
}
