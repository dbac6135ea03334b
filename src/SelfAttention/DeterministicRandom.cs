using System.Globalization;
using SelfAttention.Internal;

namespace SelfAttention;

/// <summary>
/// A seeded pseudo-random generator defined by this library (xoshiro256**, seeded through SplitMix64; Blackman and
/// Vigna, 2018), so that the same seed gives the same numbers on every machine, OS and .NET version.
/// <see cref="System.Random"/> does not promise that. Not for cryptography. Not thread-safe.
/// </summary>
public sealed class DeterministicRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Creates a generator whose whole sequence is fixed by <paramref name="seed"/>.</summary>
    /// <param name="seed">Any value; the four state words are derived from it with SplitMix64, so 0 is fine too.</param>
    public DeterministicRandom(ulong seed)
    {
        _s0 = SplitMix64(ref seed);
        _s1 = SplitMix64(ref seed);
        _s2 = SplitMix64(ref seed);
        _s3 = SplitMix64(ref seed);
    }

    /// <summary>The next 64 uniformly distributed bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A float uniformly distributed in [0, 1): the top 24 bits of <see cref="NextUInt64"/> times 2⁻²⁴.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>
    /// A float uniformly distributed in [<paramref name="min"/>, <paramref name="max"/>): <c>min + (max − min)·u</c> in
    /// float with <c>u</c> from <see cref="NextSingle()"/>; where that rounds up to <paramref name="max"/> itself, the
    /// largest float below <paramref name="max"/> is returned instead, so the bound stays exclusive.
    /// </summary>
    /// <param name="min">The inclusive lower bound; finite.</param>
    /// <param name="max">The exclusive upper bound; finite, greater than <paramref name="min"/>, and <c>max − min</c> finite in float.</param>
    /// <returns>A value in [<paramref name="min"/>, <paramref name="max"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A bound is not finite, <paramref name="max"/> is not above <paramref name="min"/>, or the width of the range overflows float; the generator has not advanced.</exception>
    public float NextSingle(float min, float max)
    {
        ValidateRange(min, max);
        return Draw(min, max);
    }

    /// <summary>Fills <paramref name="destination"/> with floats uniform in [<paramref name="min"/>, <paramref name="max"/>), in order.</summary>
    /// <param name="destination">The span to fill.</param>
    /// <param name="min">The inclusive lower bound; finite.</param>
    /// <param name="max">The exclusive upper bound; as for <see cref="NextSingle(float, float)"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The bounds are invalid as for <see cref="NextSingle(float, float)"/>; nothing is written.</exception>
    public void Fill(Span<float> destination, float min, float max)
    {
        ValidateRange(min, max);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = Draw(min, max);
        }
    }

    /// <summary>
    /// Xavier/Glorot uniform initialisation of a <c>[fanIn, fanOut]</c> weight matrix: values uniform in
    /// <c>[−a, a)</c> with <c>a = √(6 / (fanIn + fanOut))</c>, which keeps activations' variance roughly constant
    /// through the layer (Glorot and Bengio, 2010).
    /// </summary>
    /// <param name="weights">The matrix, <c>fanIn · fanOut</c> floats.</param>
    /// <param name="fanIn">Inputs per output; at least 1.</param>
    /// <param name="fanOut">Outputs; at least 1.</param>
    /// <exception cref="ArgumentException">The fans are not positive or the span is not <c>fanIn · fanOut</c> long.</exception>
    public void FillXavierUniform(Span<float> weights, int fanIn, int fanOut)
    {
        if (fanIn < 1) ThrowHelper.ThrowNotPositive(nameof(fanIn), nameof(fanIn), fanIn);
        if (fanOut < 1) ThrowHelper.ThrowNotPositive(nameof(fanOut), nameof(fanOut), fanOut);
        if (weights.Length != (long)fanIn * fanOut)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"weights length: expected {(long)fanIn * fanOut} (fanIn · fanOut), actual {weights.Length}."), nameof(weights));
        }

        // fanIn + fanOut in long: it may pass int.MaxValue (1 × int.MaxValue weights); exact in float up to 2²⁴, as before.
        float bound = MathF.Sqrt(6f / (float)((long)fanIn + fanOut));
        Fill(weights, -bound, bound);
    }

    // min + (max − min)·u rounds up to max when u is close to 1 and the step below max is finer than the rounding.
    private float Draw(float min, float max)
    {
        float value = min + (max - min) * NextSingle();
        return value < max ? value : float.BitDecrement(max);
    }

    private static void ValidateRange(float min, float max)
    {
        if (!float.IsFinite(min))
        {
            throw new ArgumentOutOfRangeException(nameof(min), min,
                string.Create(CultureInfo.InvariantCulture, $"min: expected a finite value, actual {min}."));
        }

        if (!float.IsFinite(max) || !(max > min) || !float.IsFinite(max - min))
        {
            throw new ArgumentOutOfRangeException(nameof(max), max,
                string.Create(CultureInfo.InvariantCulture, $"max: expected a finite value above min ({min}) with max − min finite, actual {max}."));
        }
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
