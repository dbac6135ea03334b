namespace SelfAttention.Comparison.Implementations;

/// <summary>
/// The four BSNH buffers of one shape, inputs filled with seeded uniform values of mean 0 and variance 1 (scores then
/// have a standard deviation near 1 after the 1/√d scale, so the softmax is neither flat nor one-hot). Every page is
/// touched here, so no timed call pays for first-touch page faults.
/// </summary>
public sealed class AttentionBuffers
{
    /// <summary>Creates and fills the buffers for <paramref name="shape"/>.</summary>
    public AttentionBuffers(AttentionShape shape, int seed = 12345)
    {
        Shape = shape;
        var random = new Random(seed);
        Query = UnitVariance(random, (long)shape.Batch * shape.QueryLength * shape.Heads * shape.HeadDim);
        Key = UnitVariance(random, (long)shape.Batch * shape.KeyLength * shape.KvHeads * shape.HeadDim);
        Value = UnitVariance(random, (long)shape.Batch * shape.KeyLength * shape.KvHeads * shape.ValueDim);
        Output = new float[(long)shape.Batch * shape.QueryLength * shape.Heads * shape.ValueDim];
        Array.Fill(Output, float.NaN);
    }

    /// <summary>The shape the buffers are sized for.</summary>
    public AttentionShape Shape { get; }

    /// <summary><c>[Batch, QueryLength, Heads·HeadDim]</c>.</summary>
    public float[] Query { get; }

    /// <summary><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</summary>
    public float[] Key { get; }

    /// <summary><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</summary>
    public float[] Value { get; }

    /// <summary><c>[Batch, QueryLength, Heads·ValueDim]</c>; starts as NaN so that an unwritten row fails validation.</summary>
    public float[] Output { get; }

    /// <summary>Runs <paramref name="implementation"/> once on these buffers.</summary>
    public void Run(AttentionImplementation implementation, AttentionOptions options) =>
        implementation.Run(Query, Key, Value, Output, Shape, options);

    private static float[] UnitVariance(Random random, long length)
    {
        // Uniform on [−√3, √3]: mean 0, variance 1.
        float halfWidth = MathF.Sqrt(3f);
        var data = new float[length];
        for (long i = 0; i < length; i++)
        {
            data[i] = halfWidth * ((2f * random.NextSingle()) - 1f);
        }

        return data;
    }
}
