namespace PruneSharp.Data;

/// <summary>Which part of a data set to load.</summary>
public enum DataSplit
{
    /// <summary>The training examples.</summary>
    Train,

    /// <summary>The held-out test examples.</summary>
    Test,
}
