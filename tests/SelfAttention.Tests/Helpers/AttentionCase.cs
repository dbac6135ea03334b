using System.Globalization;

namespace SelfAttention.Tests.Helpers;

/// <summary>
/// One single-head attention problem: its sizes, options and how its inputs are drawn. <see cref="ToString"/> is the
/// shape that every failure message starts with.
/// </summary>
/// <param name="QueryLength">Query rows, nq.</param>
/// <param name="KeyLength">Key and value rows, nk.</param>
/// <param name="HeadDim">Query and key width, d.</param>
/// <param name="ValueDim">Value and output width, dv.</param>
/// <param name="Magnitude">Inputs are uniform in [−Magnitude, Magnitude] (query and key in [0.1, Magnitude] when <see cref="PositiveScores"/>).</param>
public sealed record AttentionCase(int QueryLength, int KeyLength, int HeadDim, int ValueDim, float Magnitude = 1f)
{
    public bool IsCausal { get; init; }

    public AttentionNormalization Normalization { get; init; }

    public float? Scale { get; init; }

    /// <summary>Views with a random pitch and guards; otherwise contiguous views with one guard element each side.</summary>
    public bool Pitched { get; init; } = true;

    /// <summary>Query and key positive, so every score is positive and Σs is far from 0 (for <see cref="AttentionNormalization.Sum"/>).</summary>
    public bool PositiveScores { get; init; }

    public int Seed { get; init; } = TestInputs.DefaultSeed;

    /// <summary>The scale the library applies: the explicit one, or 1/√d.</summary>
    public float EffectiveScale => Scale ?? 1f / MathF.Sqrt(HeadDim);

    public AttentionOptions Options(AttentionKernel kernel = AttentionKernel.Auto, int maxDegreeOfParallelism = 0) => new()
    {
        Scale = Scale,
        IsCausal = IsCausal,
        Normalization = Normalization,
        Kernel = kernel,
        MaxDegreeOfParallelism = maxDegreeOfParallelism,
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"nq={QueryLength} nk={KeyLength} d={HeadDim} dv={ValueDim} causal={IsCausal} norm={Normalization} scale={(Scale is float s ? s.ToString("R", CultureInfo.InvariantCulture) : "1/√d")} magnitude={Magnitude} {(PositiveScores ? "positive " : "")}pitched={Pitched} seed={Seed}");
}
