namespace SelfAttention.Transformers;

/// <summary>How a sequence's hidden states become one vector.</summary>
public enum PoolingMode
{
    /// <summary>The mean over the sequence's tokens (sentence-transformers' default, all-MiniLM-L6-v2's).</summary>
    Mean,

    /// <summary>The first token's state (BERT's [CLS]).</summary>
    Cls,
}
