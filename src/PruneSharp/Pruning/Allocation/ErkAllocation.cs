namespace PruneSharp.Pruning.Allocation;

/// <summary>
/// Erdős–Rényi-Kernel densities (Evci et al. 2020, "Rigging the Lottery"): layer l gets density
/// ε·(Σ dims)/(Π dims) with one ε for the model, chosen so that Σ density·size = (1 − s)·Σ size. Layers whose
/// density would exceed 1 are made dense and ε is solved again for the rest (repeated until none exceeds 1); layers
/// below a minimum density are held at it in the same way.
/// </summary>
public static class ErkAllocation
{
    /// <summary>The density of each layer (same order as <paramref name="shapes"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The sparsity is not in [0, 1) or the minimum density not in [0, 1].</exception>
    /// <exception cref="PruningException">The minimum density makes the target unreachable.</exception>
    public static double[] Densities(IReadOnlyList<long[]> shapes, double sparsity, double minDensity = 0)
    {
        if (!(sparsity >= 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "sparsity must be in [0, 1)");
        if (!(minDensity >= 0 && minDensity <= 1)) throw new ArgumentOutOfRangeException(nameof(minDensity), minDensity, "minimum density must be in [0, 1]");
        int count = shapes.Count;
        var size = shapes.Select(s => (double)s.Aggregate(1L, (a, b) => a * b)).ToArray();
        var raw = shapes.Select((s, i) => s.Sum(d => (double)d) / size[i]).ToArray();
        double budget = (1 - sparsity) * size.Sum();
        var fixedDensity = new double?[count];
        while (true)
        {
            double fixedKept = 0, freeRaw = 0;
            for (int i = 0; i < count; i++)
                if (fixedDensity[i] is double d) fixedKept += d * size[i];
                else freeRaw += raw[i] * size[i];
            if (freeRaw == 0)
            {
                if (fixedKept > budget * (1 + 1e-12))
                    throw new PruningException($"a minimum density of {minDensity} per layer keeps more weights than sparsity {sparsity} allows");
                return fixedDensity.Select(d => d!.Value).ToArray();
            }
            double epsilon = (budget - fixedKept) / freeRaw;
            bool changed = false;
            for (int i = 0; i < count; i++)
            {
                if (fixedDensity[i] != null) continue;
                double d = epsilon * raw[i];
                if (d > 1) { fixedDensity[i] = 1; changed = true; }
                else if (d < minDensity) { fixedDensity[i] = minDensity; changed = true; }
            }
            if (changed) continue;
            if (epsilon < 0)
                throw new PruningException($"a minimum density of {minDensity} per layer keeps more weights than sparsity {sparsity} allows");
            return Enumerable.Range(0, count).Select(i => fixedDensity[i] ?? epsilon * raw[i]).ToArray();
        }
    }
}
