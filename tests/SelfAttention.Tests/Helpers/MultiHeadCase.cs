using System.Globalization;

namespace SelfAttention.Tests.Helpers;

/// <summary>A multi-head problem over BSNH buffers; <see cref="ToString"/> is the shape in every failure message.</summary>
public sealed record MultiHeadCase(int Batch, int QueryLength, int KeyLength, int Heads, int KvHeads, int HeadDim, int ValueDim, float Magnitude = 1f)
{
    public bool IsCausal { get; init; }

    public AttentionNormalization Normalization { get; init; }

    public float? Scale { get; init; }

    public bool PositiveScores { get; init; }

    public int Seed { get; init; } = TestInputs.DefaultSeed;

    public AttentionShape Shape => new(Batch, QueryLength, KeyLength, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };

    public int QueryCount => Batch * QueryLength * Heads * HeadDim;

    public int KeyCount => Batch * KeyLength * KvHeads * HeadDim;

    public int ValueCount => Batch * KeyLength * KvHeads * ValueDim;

    public int OutputCount => Batch * QueryLength * Heads * ValueDim;

    public AttentionOptions Options(AttentionKernel kernel = AttentionKernel.Auto, int maxDegreeOfParallelism = 0) => new()
    {
        Scale = Scale,
        IsCausal = IsCausal,
        Normalization = Normalization,
        Kernel = kernel,
        MaxDegreeOfParallelism = maxDegreeOfParallelism,
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"B={Batch} nq={QueryLength} nk={KeyLength} H={Heads} KvH={KvHeads} d={HeadDim} dv={ValueDim} causal={IsCausal} norm={Normalization} scale={(Scale is float s ? s.ToString("R", CultureInfo.InvariantCulture) : "1/√d")} magnitude={Magnitude} seed={Seed}");
}
