using SelfAttention.Benchmarks.Peers;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Benchmarks;

/// <summary>
/// The implementations this exe validates and times, in <c>quick</c> and <c>bdn</c> alike: the library's list
/// (<see cref="ImplementationRegistry.Default"/>) plus the MathNet peer, which stays in this exe because MathNet is not
/// AOT-clean and SelfAttention.Comparison is also compiled into the NativeAOT <c>selfattention</c> tool.
/// </summary>
public static class BenchmarkRegistry
{
    /// <summary>Naive, every kernel, TensorPrimitives, MathNet, OpenBLAS.</summary>
    public static ImplementationRegistry Implementations { get; } =
        ImplementationRegistry.WithPeers([new ImplementationEntry(MathNetPeer.PeerName, () => new MathNetPeer())]);
}
