using System.Runtime.InteropServices;
using PruneSharp.Engine;
using PruneSharp.Tests.Support;
using static TorchSharp.torch;

namespace PruneSharp.Tests.Engine;

// mallopt changes the C heap's settings for the whole process: not while other tests allocate.
[Collection(SerialCollection.Name)]
public class TorchEngineTests
{
    [Fact]
    public void Retaining_freed_memory_takes_on_glibc_and_leaves_results_alone()
    {
        var generator = new Generator(5);
        var a = randn(new long[] { 512, 512 }, generator: generator);
        var expected = a.matmul(a).sum().item<float>();
        Assert.Equal(RuntimeInformation.IsOSPlatform(OSPlatform.Linux), TorchEngine.RetainFreedMemory());
        for (int i = 0; i < 3; i++)
            Assert.Equal(expected, a.matmul(a).sum().item<float>());
    }
}
