using Xunit;

namespace SelfAttention.Tests.Helpers;

/// <summary>
/// A flat span of exactly <see cref="Length"/> floats inside a larger array, with guard elements before and after:
/// <see cref="GuardedMatrix.Sentinel"/> around outputs (asserted untouched), NaN around inputs (an overread poisons the result).
/// </summary>
public sealed class GuardedBuffer
{
    private const int GuardLength = 19;
    private readonly float _guard;
    private float[]? _snapshot;

    public GuardedBuffer(int length, float guard = GuardedMatrix.Sentinel)
    {
        Length = length;
        _guard = guard;
        Buffer = new float[GuardLength + length + GuardLength];
        Buffer.AsSpan().Fill(guard);
    }

    /// <summary>An input buffer holding <paramref name="values"/>, guarded by NaN.</summary>
    public static GuardedBuffer Input(ReadOnlySpan<float> values)
    {
        var buffer = new GuardedBuffer(values.Length, float.NaN);
        values.CopyTo(buffer.Span);
        buffer._snapshot = (float[])buffer.Buffer.Clone();
        return buffer;
    }

    public float[] Buffer { get; }

    public int Length { get; }

    public Span<float> Span => Buffer.AsSpan(GuardLength, Length);

    public float[] ToArray() => Span.ToArray();

    public void AssertGuardsIntact(string context)
    {
        for (int index = 0; index < Buffer.Length; index++)
        {
            if (index >= GuardLength && index < GuardLength + Length)
            {
                continue;
            }

            float value = Buffer[index];
            bool intact = float.IsNaN(_guard) ? float.IsNaN(value) : value.Equals(_guard);
            if (!intact)
            {
                Assert.Fail($"{context}: guard element {index - GuardLength} relative to a span of {Length} was overwritten with {value}.");
            }
        }
    }

    public void AssertUnchanged(string context)
    {
        Assert.NotNull(_snapshot);
        for (int index = 0; index < Buffer.Length; index++)
        {
            if (BitConverter.SingleToInt32Bits(Buffer[index]) != BitConverter.SingleToInt32Bits(_snapshot![index]))
            {
                Assert.Fail($"{context}: input element {index - GuardLength} changed from {_snapshot[index]} to {Buffer[index]}.");
            }
        }
    }
}
