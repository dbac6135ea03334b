using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Comparison.Quick;

/// <summary>
/// The decode shape's read control: sums the call's own K and V buffers with vector adds, K first, then V, one pass
/// each. The quick harness times it in the same alternating rounds as the implementations, so its median and theirs
/// meet the same noise; a decode kernel's share of it is the measure of how close it streams K and V to what one
/// core can read. It computes no attention, so it is never validated and its output is left as it is.
/// </summary>
internal sealed class KeyValueReadControl : AttentionImplementation
{
    /// <summary>The row's name in the table.</summary>
    public const string ControlName = "(read K+V)";

    private float _sink;

    /// <inheritdoc/>
    public override string Name => ControlName;

    /// <summary>The last sum, kept so that the JIT cannot drop the reads.</summary>
    public float Sink => _sink;

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                             Span<float> output, AttentionShape shape, AttentionOptions options) =>
        _sink = MachineControls.SumStreaming(key) + MachineControls.SumStreaming(value);
}
