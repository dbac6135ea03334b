using SelfAttention.Benchmarks.Peers;
using SelfAttention.Benchmarks.Peers.OnnxRuntime;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Benchmarks;

/// <summary>
/// The implementations this exe validates and times, in <c>quick</c> and <c>bdn</c> alike: the library's list
/// (<see cref="ImplementationRegistry.Default"/>) plus MathNet and the two ONNX Runtime routes, which stay in this exe
/// so that the harness library (SelfAttention.Comparison) carries neither package.
/// </summary>
public static class BenchmarkRegistry
{
    /// <summary>Naive, every kernel, TensorPrimitives, MathNet, ORT/MHA, ORT/Attention, OpenBLAS.</summary>
    public static ImplementationRegistry Implementations { get; } =
        ImplementationRegistry.WithPeers(
        [
            new ImplementationEntry(MathNetPeer.PeerName, () => new MathNetPeer()),
            new ImplementationEntry(OnnxRuntimePeer.MultiHeadAttentionName, () => new OnnxRuntimePeer(OnnxRuntimeRoute.MultiHeadAttention), "×ORT MHA"),
            new ImplementationEntry(OnnxRuntimePeer.AttentionName, () => new OnnxRuntimePeer(OnnxRuntimeRoute.Attention), "×ORT Attn"),
        ]);
}
