using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SelfAttention.Internal;

namespace SelfAttention.Transformers;

/// <summary>The checks the transformer blocks share, in the core library's wording (expected versus actual).</summary>
internal static class TransformerValidation
{
    /// <summary>
    /// <paramref name="destination"/> has exactly <paramref name="expected"/> elements and is either the same memory as
    /// <paramref name="source"/> (in place) or shares no byte with it.
    /// </summary>
    public static void CheckSameLengthInPlaceOrDisjoint(ReadOnlySpan<float> source, Span<float> destination, string sourceName, string destinationName, long expected)
    {
        if (destination.Length != expected)
        {
            ThrowHelper.ThrowSizeMismatch(destinationName, $"{destinationName}.Length", expected, destination.Length);
        }

        CheckInPlaceOrDisjoint(source, destination, sourceName, destinationName);
    }

    /// <summary>Throws when <paramref name="destination"/> overlaps <paramref name="source"/> other than by being exactly the same span.</summary>
    public static void CheckInPlaceOrDisjoint(ReadOnlySpan<float> source, Span<float> destination, string sourceName, string destinationName)
    {
        bool same = source.Length == destination.Length
                    && Unsafe.AreSame(ref MemoryMarshal.GetReference(source), ref MemoryMarshal.GetReference(destination));
        if (!same)
        {
            AttentionValidation.CheckNoOverlap<float, float>(destination, source, destinationName, sourceName);
        }
    }

    /// <summary>A degree of parallelism as the library takes it: −1 (every processor), 0, or a positive count.</summary>
    public static void CheckDegree(int maxDegreeOfParallelism)
    {
        if (maxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"maxDegreeOfParallelism: expected -1, 0 or a positive count, actual {maxDegreeOfParallelism}."));
        }
    }

    /// <summary>
    /// Cumulative sequence offsets (<c>cu_seqlens</c>): at least two entries, the first 0, never decreasing, the last
    /// <paramref name="totalTokens"/>.
    /// </summary>
    public static void CheckSequenceOffsets(ReadOnlySpan<int> offsets, int totalTokens, string name)
    {
        if (offsets.Length < 2)
        {
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{name}.Length: expected at least 2 (batch + 1 cumulative offsets), actual {offsets.Length}."), name);
        }

        if (offsets[0] != 0)
        {
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{name}[0]: expected 0, actual {offsets[0]}."), name);
        }

        for (int b = 1; b < offsets.Length; b++)
        {
            if (offsets[b] < offsets[b - 1])
            {
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{name}[{b}]: expected at least {name}[{b - 1}] = {offsets[b - 1]} (offsets never decrease), actual {offsets[b]}."), name);
            }
        }

        if (offsets[^1] != totalTokens)
        {
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{name}[{offsets.Length - 1}]: expected the total token count {totalTokens}, actual {offsets[^1]}."), name);
        }
    }
}
