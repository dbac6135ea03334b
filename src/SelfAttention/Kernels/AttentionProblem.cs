namespace SelfAttention.Kernels;

/// <summary>
/// A validated attention call as pinned pointers and strides, so that work items (batch, head, query block) can run
/// on any thread. Strides are in floats. For one head the batch and head counts are 1.
/// <code>
/// query  row (b, i) of head h:    Query  + b·QueryBatchStride  + h·HeadDim                 + i·QueryRowStride
/// key    row (b, j) of kv head g: Key    + b·KeyBatchStride    + g·HeadDim                 + j·KeyRowStride
/// value  row (b, j) of kv head g: Value  + b·ValueBatchStride  + g·ValueDim                + j·ValueRowStride
/// output row (b, i) of head h:    Output + b·OutputBatchStride + h·ValueDim                + i·OutputRowStride
/// </code>
/// Query head h reads kv head <c>g = h / GroupSize</c>. <see cref="Weights"/> is null unless a single-head call asked
/// for the weights matrix, <c>[QueryLength, KeyLength]</c> with row stride <see cref="WeightsRowStride"/>.
/// </summary>
internal unsafe readonly struct AttentionProblem
{
    public float* Query { get; init; }
    public float* Key { get; init; }
    public float* Value { get; init; }
    public float* Output { get; init; }
    public float* Weights { get; init; }

    /// <summary>
    /// When set (a Half KV cache), keys and values are read from these instead of <see cref="Key"/> and <see cref="Value"/>,
    /// with the same strides in elements. Only the decode kernel reads them.
    /// </summary>
    public Half* KeyHalf { get; init; }

    /// <inheritdoc cref="KeyHalf"/>
    public Half* ValueHalf { get; init; }
    public nint WeightsRowStride { get; init; }
    public nint QueryRowStride { get; init; }
    public nint KeyRowStride { get; init; }
    public nint ValueRowStride { get; init; }
    public nint OutputRowStride { get; init; }
    public nint QueryBatchStride { get; init; }
    public nint KeyBatchStride { get; init; }
    public nint ValueBatchStride { get; init; }
    public nint OutputBatchStride { get; init; }
    public int Batch { get; init; }
    public int Heads { get; init; }
    public int GroupSize { get; init; }
    public int QueryLength { get; init; }
    public int KeyLength { get; init; }
    public int HeadDim { get; init; }
    public int ValueDim { get; init; }
    public float Scale { get; init; }
    public bool IsCausal { get; init; }
    public AttentionNormalization Normalization { get; init; }

    /// <summary>Set by the dispatcher for the decode kernel: kv heads per work item.</summary>
    public int DecodeKvHeadsPerItem { get; init; }

    public float* QueryHead(int batch, int head) => Query + batch * QueryBatchStride + (nint)head * HeadDim;

    public Half* KeyHeadHalf(int batch, int head) => KeyHalf + batch * KeyBatchStride + (nint)(head / GroupSize) * HeadDim;

    public Half* ValueHeadHalf(int batch, int head) => ValueHalf + batch * ValueBatchStride + (nint)(head / GroupSize) * ValueDim;

    public float* KeyHead(int batch, int head) => Key + batch * KeyBatchStride + (nint)(head / GroupSize) * HeadDim;

    public float* ValueHead(int batch, int head) => Value + batch * ValueBatchStride + (nint)(head / GroupSize) * ValueDim;

    public float* OutputHead(int batch, int head) => Output + batch * OutputBatchStride + (nint)head * ValueDim;
}
