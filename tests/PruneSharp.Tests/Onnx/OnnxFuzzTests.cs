using Google.Protobuf;
using PruneSharp.Graph;
using PruneSharp.Onnx;
using Xunit.Abstractions;

namespace PruneSharp.Tests.Onnx;

public class OnnxFuzzTests(ITestOutputHelper output)
{
    const int Mutations = 3000;

    /// <summary>
    /// Reading a damaged model either succeeds or throws <see cref="OnnxFormatException"/>, and building a module from
    /// what was read either succeeds or throws a <see cref="GraphException"/>: never another exception, hang or crash.
    /// </summary>
    [Fact]
    public void Mutated_models_fail_only_with_typed_exceptions()
    {
        byte[] original = BadInputTests.SmallCnnModel().ToByteArray();
        var random = new Random(20240611);
        int read = 0, built = 0;
        for (int i = 0; i < Mutations; i++)
        {
            byte[] bytes = Mutate(original, random);
            PruneSharp.Graph.Graph graph;
            try
            {
                graph = OnnxFile.Read(bytes);
            }
            catch (OnnxFormatException)
            {
                continue;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i}: reading threw {e.GetType().Name}: {e.Message}");
                throw;
            }
            read++;
            try
            {
                using var module = new GraphModule(graph);
                built++;
            }
            catch (GraphException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i}: building the module threw {e.GetType().Name}: {e.Message}");
            }
        }
        output.WriteLine($"{Mutations} mutations: {read} read, {built} built into modules");
        Assert.InRange(read, 1, Mutations - 1); // the mutations exercise both outcomes
    }

    static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = (byte)random.Next(256); break;
                case 2: bytes.RemoveRange(at, bytes.Count - at); break;
                default: bytes.InsertRange(at, Enumerable.Range(0, 1 + random.Next(8)).Select(_ => (byte)random.Next(256))); break;
            }
        }
        return bytes.ToArray();
    }
}
