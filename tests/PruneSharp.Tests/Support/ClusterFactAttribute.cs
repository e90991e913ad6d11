using PruneSharp.Data;

namespace PruneSharp.Tests.Support;

/// <summary>
/// A fact that runs Fashion-MNIST recipes on a local Slurm cluster recording to PostgreSQL; skipped, with the reason,
/// where either cluster cannot start here or the data set is absent.
/// </summary>
public sealed class ClusterFactAttribute : FactAttribute
{
    public ClusterFactAttribute()
    {
        if ((SlurmCluster.Unavailable ?? PostgresCluster.Unavailable) is { } why) Skip = why;
        else if (!Directory.Exists(DataLocations.DebianFashionMnist) && !File.Exists(DataLocations.DebianFashionMnist))
            Skip = $"{DataLocations.DebianFashionMnist} is absent (apt-get install dataset-fashion-mnist)";
    }
}
