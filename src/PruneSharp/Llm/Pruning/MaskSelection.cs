using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PruneSharp.Pruning;
using PruneSharp.Pruning.Allocation;
using PruneSharp.Pruning.Granularity;
using PruneSharp.Sparse;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>
/// Keep-masks from scores of a linear weight [out, in] (higher = more important), with exact counts: a comparison
/// group of n weights at sparsity s loses round(s·n) weights (half to even), the lowest scores first, and among equal
/// scores the lower index goes first. N:M keeps the N highest of each group of M inputs (among equal scores the lower
/// index is kept, as <see cref="NMGranularity"/>).
/// </summary>
public static class MaskSelection
{
    /// <summary>Prunes round(s·in) lowest scores of every output row (Wanda's comparison group).</summary>
    /// <remarks>
    /// Linear time per row instead of a sort: a quickselect finds the row's k-th smallest score t; everything below t
    /// goes, and of the scores equal to t the first ones by index until k are gone. NaN counts as the largest score.
    /// Rows are shared among libtorch's thread count.
    /// </remarks>
    public static Tensor KeepPerRow(Tensor scores, double sparsity)
    {
        long rows = scores.shape[0], columns = scores.shape[1];
        long pruned = ExactSelection.PrunedCount(sparsity, columns);
        if (pruned == 0) return ones(rows, columns, dtype: ScalarType.Bool);
        if (pruned == columns) return zeros(rows, columns, dtype: ScalarType.Bool);
        if (2 * columns > Array.MaxLength) throw new PruningException($"a row of {columns} scores is longer than one selection handles ({Array.MaxLength / 2})");
        using var scope = NewDisposeScope();
        var values = scores.detach().to(ScalarType.Float32).cpu().contiguous();
        var keep = empty(rows, columns, dtype: ScalarType.Bool);
        nint source = Address(values), target = Address(keep);
        int width = (int)columns, k = (int)pruned, threads = Math.Max(1, get_num_threads());
        long rowsPerPiece = Math.Max(1, Math.Min(rows, (1L << 16) / columns + 1));
        int pieces = (int)((rows + rowsPerPiece - 1) / rowsPerPiece);
        WorkSharing.Run(pieces, threads, piece =>
        {
            long first = piece * rowsPerPiece, end = Math.Min(rows, first + rowsPerPiece);
            var keys = ArrayPool<int>.Shared.Rent(2 * width);
            try
            {
                for (long r = first; r < end; r++) KeepRow(source, target, r * width, width, k, keys);
            }
            finally { ArrayPool<int>.Shared.Return(keys); }
        });
        return keep.MoveToOuterDisposeScope();
    }

    static unsafe nint Address(Tensor contiguous) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(contiguous.bytes));

    static unsafe void KeepRow(nint source, nint target, long offset, int width, int pruned, int[] keys)
    {
        var row = new ReadOnlySpan<float>((float*)source + offset, width);
        var keep = new Span<bool>((bool*)target + offset, width);
        var order = keys.AsSpan(0, width);
        var scratch = keys.AsSpan(width, width);
        for (int c = 0; c < width; c++) order[c] = OrderKey(row[c]);
        order.CopyTo(scratch);
        int threshold = Quickselect(scratch, pruned - 1);
        // The selection leaves every key below the threshold in front of it.
        int below = 0;
        foreach (int key in scratch[..(pruned - 1)]) if (key < threshold) below++;
        int tiesToPrune = pruned - below;
        for (int c = 0; c < width; c++)
        {
            int key = order[c];
            keep[c] = key > threshold || (key == threshold && tiesToPrune-- <= 0);
        }
    }

    /// <summary>
    /// An integer that orders as the float does (−0 equal to +0, every NaN equal and above +∞), so selection runs on
    /// integers.
    /// </summary>
    static int OrderKey(float value)
    {
        if (float.IsNaN(value)) return int.MaxValue;
        int bits = BitConverter.SingleToInt32Bits(value);
        if (bits == int.MinValue) return 0;
        return bits ^ ((bits >> 31) & int.MaxValue);
    }

    /// <summary>The <paramref name="k"/>-th smallest (0-based) of <paramref name="a"/>, which it reorders (Hoare's selection; a sort past a depth bound).</summary>
    static int Quickselect(Span<int> a, int k)
    {
        int lo = 0, hi = a.Length - 1, budget = 2 * (32 - BitOperations.LeadingZeroCount((uint)a.Length)) + 8;
        while (hi - lo >= 16)
        {
            if (budget-- == 0)
            {
                a[lo..(hi + 1)].Sort();
                return a[k];
            }
            int mid = lo + (hi - lo) / 2;
            int x = a[lo], y = a[mid], z = a[hi];
            int pivot = Math.Max(Math.Min(x, y), Math.Min(Math.Max(x, y), z));
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) { (a[i], a[j]) = (a[j], a[i]); i++; j--; }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return a[k];
        }
        a[lo..(hi + 1)].Sort();
        return a[k];
    }

    /// <summary>Prunes round(s·out·in) lowest scores of the whole matrix (ties: lower row-major index first).</summary>
    public static Tensor KeepPerMatrix(Tensor scores, double sparsity) =>
        ExactSelection.KeepAllButLowest(scores.reshape(-1), ExactSelection.PrunedCount(sparsity, scores.numel())).reshape(scores.shape);

    /// <summary>Keeps the N highest scores of every M consecutive inputs of each row.</summary>
    /// <exception cref="PruningException">M does not divide the input width.</exception>
    public static Tensor KeepNM(Tensor scores, int n, int m)
    {
        if (scores.shape[1] % m != 0)
            throw new PruningException($"{n}:{m} sparsity needs M={m} to divide the input width, which is {scores.shape[1]}");
        return new NMGranularity(n, m).SelectKeep(scores.reshape(-1, m)).reshape(scores.shape);
    }

    /// <summary>Checks that <paramref name="weight"/> is a float matrix with <paramref name="features"/> inputs (when given) and fits the pattern.</summary>
    /// <exception cref="PruningException">It is not; the message says what differs.</exception>
    public static void CheckWeight(Tensor weight, SparsityPattern pattern, long? features = null)
    {
        if (weight.dim() != 2 || !is_floating_point(weight))
            throw new PruningException($"a linear weight is a floating-point matrix [out, in]; got {weight.dtype} of shape [{string.Join(",", weight.shape)}]");
        if (features is long f && weight.shape[1] != f)
            throw new PruningException($"weight of shape [{string.Join(",", weight.shape)}] has {weight.shape[1]} inputs, but the calibration statistics have {f} features");
        if (pattern.IsNM && weight.shape[1] % pattern.M != 0)
            throw new PruningException($"{pattern} sparsity needs M={pattern.M} to divide the input width, which is {weight.shape[1]}");
    }
}
