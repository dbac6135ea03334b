namespace SelfAttention.Transformers;

/// <summary>Where an encoder layer normalises.</summary>
public enum NormPlacement
{
    /// <summary>Post-LN, as BERT: <c>h = LN₁(x + Attention(x))</c>, <c>y = LN₂(h + FFN(h))</c>.</summary>
    PostLayerNorm,

    /// <summary>Pre-LN, as GPT-2: <c>h = x + Attention(LN₁(x))</c>, <c>y = h + FFN(LN₂(h))</c>.</summary>
    PreLayerNorm,
}

/// <summary>The shape and rules of an encoder layer besides its weights.</summary>
public sealed record EncoderLayerOptions
{
    /// <summary>Attention heads; divides the model width.</summary>
    public required int Heads { get; init; }

    /// <summary>The LayerNorms' epsilon; BERT's 1e-12 by default.</summary>
    public float LayerNormEpsilon { get; init; } = 1e-12f;

    /// <summary>Post-LN (BERT, the default) or pre-LN.</summary>
    public NormPlacement Placement { get; init; } = NormPlacement.PostLayerNorm;

    /// <summary>The feed-forward's activation: GELU (erf form, BERT) by default.</summary>
    public LinearActivation FeedForwardActivation { get; init; } = LinearActivation.Gelu;

    /// <summary>Whether attention is causal (bottom-right aligned; a decoder block): false for an encoder.</summary>
    public bool IsCausal { get; init; }
}
