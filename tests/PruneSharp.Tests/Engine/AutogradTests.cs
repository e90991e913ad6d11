using TorchSharp;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Engine;

public class AutogradTests
{
    [Fact]
    public void Backward_matches_central_differences_for_a_small_network()
    {
        PruneSharp.Engine.TorchEngine.EnsureLoaded();
        manual_seed(7);
        var x = randn(5, 4, dtype: float64);
        var target = randn(5, 3, dtype: float64);
        var w1 = randn(4, 6, dtype: float64, requires_grad: true);
        var w2 = randn(6, 3, dtype: float64, requires_grad: true);

        Tensor Loss() => (tanh(x.matmul(w1)).matmul(w2) - target).pow(2).mean();

        Loss().backward();
        var analytic = w1.grad!.clone();

        const double h = 1e-6;
        using (no_grad())
        {
            for (int i = 0; i < 4; i++)
            for (int j = 0; j < 6; j++)
            {
                double saved = w1[i, j].item<double>();
                w1[i, j] = saved + h;
                double up = Loss().item<double>();
                w1[i, j] = saved - h;
                double down = Loss().item<double>();
                w1[i, j] = saved;
                double numeric = (up - down) / (2 * h);
                Assert.Equal(numeric, analytic[i, j].item<double>(), 1e-7);
            }
        }
    }

    [Fact]
    public void Matmul_agrees_with_a_naive_product()
    {
        PruneSharp.Engine.TorchEngine.EnsureLoaded();
        manual_seed(1);
        var a = randn(7, 5);
        var b = randn(5, 3);
        var c = a.matmul(b);
        float[] av = a.data<float>().ToArray(), bv = b.data<float>().ToArray(), cv = c.data<float>().ToArray();
        for (int i = 0; i < 7; i++)
        for (int j = 0; j < 3; j++)
        {
            double sum = 0;
            for (int k = 0; k < 5; k++) sum += av[i * 5 + k] * bv[k * 3 + j];
            Assert.Equal(sum, cv[i * 3 + j], 1e-4);
        }
    }

    [Fact]
    public void Sgd_step_reduces_the_loss_of_a_linear_model()
    {
        PruneSharp.Engine.TorchEngine.EnsureLoaded();
        manual_seed(3);
        var model = nn.Linear(4, 1);
        var x = randn(64, 4);
        var y = x.matmul(tensor(new float[] { 1, -2, 3, 0.5f }).reshape(4, 1)) + 0.25f;
        var optimizer = optim.SGD(model.parameters(), 0.1);
        float first = 0, last = 0;
        for (int step = 0; step < 100; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first * 1e-3, $"loss went from {first} to {last}");
    }
}
