using SelfAttention.Tests.Helpers;
using SelfAttention.Transformers;
using Xunit;

namespace SelfAttention.Tests.Allocation;

/// <summary>
/// Steady-state calls of the transformer blocks allocate nothing on any thread, each measured in a process of its own
/// (see <see cref="AllocationAssert"/>, <see cref="AllocationProcess"/>), in the allocation collection like the others.
/// </summary>
[Collection(AllocationCollection.Name)]
public class TransformerAllocationTests
{
    [Fact]
    public void Activations_AllocateNothing() =>
        AllocationProcess.Run<TransformerAllocationTests>(nameof(ActivationsScenario));

    private static void ActivationsScenario()
    {
        foreach (int n in new[] { 3, 384, 1537 })
        {
            float[] x = TestInputs.Uniform(new Random(n), n, 5f), y = new float[n];
            AllocationAssert.SteadyStateAllocatesNothing(() => Activations.Gelu(x, y), $"Gelu n {n}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Activations.GeluTanh(x, x), $"GeluTanh in place n {n}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Activations.Silu(x, y), $"Silu n {n}");
            AllocationAssert.SteadyStateAllocatesNothing(() => Activations.Erf(x, y), $"Erf n {n}");
        }
    }
}
