namespace SelfAttention.Transformers;

/// <summary>The one way the random test weights are drawn (<see cref="EncoderLayerWeights.CreateRandom"/>, <see cref="EmbeddingWeights.CreateRandom"/>).</summary>
internal static class RandomWeights
{
    /// <summary><paramref name="count"/> values uniform in <c>[low, high)</c>, drawn in order from <paramref name="random"/>.</summary>
    public static float[] Uniform(DeterministicRandom random, long count, float low, float high)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = low + (high - low) * random.NextSingle();
        }

        return values;
    }
}
