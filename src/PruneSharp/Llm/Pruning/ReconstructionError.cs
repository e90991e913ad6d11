using PruneSharp.Pruning;
using static TorchSharp.torch;

namespace PruneSharp.Llm.Pruning;

/// <summary>How well a pruned linear layer reproduces the dense layer's outputs on the calibration inputs.</summary>
public static class ReconstructionError
{
    /// <summary>
    /// ‖WX − ŴX‖²_F / ‖WX‖²_F over the calibration tokens, from H = 2XᵀX/n alone:
    /// trace((W − Ŵ)·H·(W − Ŵ)ᵀ) / trace(W·H·Wᵀ) (the factor 2/n cancels). 0 when the layer is unchanged; NaN
    /// when WX is zero.
    /// </summary>
    /// <exception cref="PruningException">The shapes do not fit.</exception>
    public static double Relative(Tensor original, Tensor pruned, Tensor hessian)
    {
        if (original.dim() != 2 || !original.shape.SequenceEqual(pruned.shape) || hessian.dim() != 2
            || hessian.shape[0] != original.shape[1] || hessian.shape[1] != original.shape[1])
            throw new PruningException($"reconstruction error needs W and Ŵ of one shape [out, in] and H [in, in]; got [{string.Join(",", original.shape)}], [{string.Join(",", pruned.shape)}], [{string.Join(",", hessian.shape)}]");
        using var scope = NewDisposeScope();
        var w = original.detach();
        var h = hessian.detach().to(w.dtype);
        var p = pruned.detach().to(w.dtype);
        double error = 0, total = 0;
        // In blocks of rows: the [out, in] products (and their float64 sums) of a whole MLP projection would be the
        // largest temporaries of a layer-by-layer run.
        for (long start = 0; start < w.shape[0]; start += RowsPerBlock)
        {
            using var block = NewDisposeScope();
            long count = Math.Min(RowsPerBlock, w.shape[0] - start);
            var rows = w.narrow(0, start, count);
            error += Quadratic(rows.sub(p.narrow(0, start, count)), h);
            total += Quadratic(rows, h);
        }
        return error / total;
    }

    const long RowsPerBlock = 256;

    /// <summary>trace(M·H·Mᵀ), summed in float64.</summary>
    static double Quadratic(Tensor m, Tensor h) => m.matmul(h).mul_(m).sum(ScalarType.Float64).item<double>();
}
