using Xunit;
using SelfAttention.Reference;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// Bad modifiers are refused by <see cref="Attention"/> and <see cref="NaiveAttention"/> alike, with an
/// <see cref="ArgumentException"/> naming the parameter (<c>modifiers</c>, or <c>options</c> for the softcap) and the
/// member, before anything is written (the output and log-sum-exp keep their sentinels).
/// </summary>
public class ModifierValidationTests
{
    private const int Batch = 2, Heads = 4, Nq = 5, Nk = 7, D = 8;
    private static readonly AttentionShape s_shape = new(Batch, Nq, Nk, Heads, D);

    public static TheoryData<string> Faults => new()
    {
        "slopes too short", "slope NaN", "sinks too long", "sink infinite", "lse too short", "lse overlaps output",
        "mask too short", "negative stride", "both masks", "sinks with sum", "lse with sum", "boolean with sum", "strides past the mask",
    };

    private static void Call(string fault, bool reference, float[] output, float[] lse)
    {
        float[] q = new float[Batch * Nq * Heads * D], k = new float[Batch * Nk * Heads * D], v = new float[Batch * Nk * Heads * D];
        float[] four = [1, 1, 1, 1], three = [1, 1, 1], five = [1, 1, 1, 1, 1], nan = [1, float.NaN, 1, 1], inf = [1, 1, float.PositiveInfinity, 1];
        bool[] shared = new bool[Nq * Nk];
        float[] additive = new float[Nq * Nk];
        var sum = new AttentionOptions { Normalization = AttentionNormalization.Sum };
        AttentionOptions options = fault is "sinks with sum" or "lse with sum" or "boolean with sum" ? sum : default;
        AttentionModifiers modifiers = fault switch
        {
            "slopes too short" => new AttentionModifiers { AlibiSlopes = three },
            "slope NaN" => new AttentionModifiers { AlibiSlopes = nan },
            "sinks too long" => new AttentionModifiers { Sinks = five },
            "sink infinite" => new AttentionModifiers { Sinks = inf },
            "lse too short" => new AttentionModifiers { LogSumExp = lse.AsSpan(1) },
            "lse overlaps output" => new AttentionModifiers { LogSumExp = output.AsSpan(0, Batch * Heads * Nq) },
            "mask too short" => new AttentionModifiers { BooleanMask = shared.AsSpan(1) },
            "negative stride" => new AttentionModifiers { AdditiveMask = additive, MaskStrides = new AttentionMaskStrides(0, -1, Nk, 1) },
            "both masks" => new AttentionModifiers { AdditiveMask = additive, BooleanMask = shared },
            "sinks with sum" => new AttentionModifiers { Sinks = four },
            "lse with sum" => new AttentionModifiers { LogSumExp = lse },
            "boolean with sum" => new AttentionModifiers { BooleanMask = shared },
            "strides past the mask" => new AttentionModifiers { AdditiveMask = additive, MaskStrides = AttentionMaskStrides.Broadcast(perBatch: true, Heads, Nq, Nk) },
            _ => throw new ArgumentOutOfRangeException(nameof(fault)),
        };
        if (reference) NaiveAttention.ComputeMultiHead(q, k, v, output, s_shape, modifiers, options);
        else Attention.ComputeMultiHead(q, k, v, output, s_shape, modifiers, options);
    }

    [Theory]
    [MemberData(nameof(Faults))]
    public void BadModifier_IsRefusedBeforeAnythingIsWritten(string fault)
    {
        foreach (bool reference in new[] { false, true })
        {
            float[] output = new float[Batch * Nq * Heads * D], lse = new float[Batch * Heads * Nq];
            Array.Fill(output, -7f);
            Array.Fill(lse, -7f);
            var e = Assert.ThrowsAny<ArgumentException>(() => Call(fault, reference, output, lse));
            Assert.Equal("modifiers", e.ParamName);
            Assert.Contains("modifiers", e.Message);
            Assert.All(output, x => Assert.Equal(-7f, x));
            Assert.All(lse, x => Assert.Equal(-7f, x));
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void BadSoftCap_IsRefused_NamingTheOption(float cap)
    {
        float[] q = new float[Batch * Nq * Heads * D], k = new float[Batch * Nk * Heads * D], v = new float[Batch * Nk * Heads * D], o = new float[q.Length];
        Array.Fill(o, -7f);
        var options = new AttentionOptions { SoftCap = cap };
        var e = Assert.ThrowsAny<ArgumentException>(() => Attention.ComputeMultiHead(q, k, v, o, s_shape, options));
        Assert.Equal("options", e.ParamName);
        Assert.Contains("options.SoftCap", e.Message);
        var r = Assert.ThrowsAny<ArgumentException>(() => NaiveAttention.ComputeMultiHead(q, k, v, o, s_shape, options));
        Assert.Equal(e.Message, r.Message);
        Assert.All(o, x => Assert.Equal(-7f, x));
    }

    [Fact]
    public void BroadcastStrides_ReadASharedMaskInPlace()
    {
        // [1, H, Nq, Nk] per head and [1, 1, Nq, Nk] shared are in bounds for masks of exactly those sizes.
        Assert.Equal(new AttentionMaskStrides(0, Nq * Nk, Nk, 1), AttentionMaskStrides.Broadcast(perBatch: false, Heads, Nq, Nk));
        Assert.Equal(new AttentionMaskStrides(0, 0, Nk, 1), AttentionMaskStrides.Broadcast(perBatch: false, 1, Nq, Nk));
        Assert.Equal(new AttentionMaskStrides(Nq * Nk, 0, Nk, 1), AttentionMaskStrides.Broadcast(perBatch: true, 1, Nq, Nk));
        float[] q = new float[Batch * Nq * Heads * D], k = new float[Batch * Nk * Heads * D], v = new float[Batch * Nk * Heads * D], o = new float[q.Length];
        Attention.ComputeMultiHead(q, k, v, o, s_shape, new AttentionModifiers { BooleanMask = new bool[Heads * Nq * Nk], MaskStrides = AttentionMaskStrides.Broadcast(false, Heads, Nq, Nk) });
        Assert.All(o, x => Assert.Equal(0f, x)); // every key hidden: zeros
    }
}
