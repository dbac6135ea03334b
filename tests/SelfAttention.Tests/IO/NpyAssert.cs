using SelfAttention.IO;
using Xunit;

namespace SelfAttention.Tests.IO;

/// <summary>Assertions shared by the .npy tests.</summary>
internal static class NpyAssert
{
    /// <summary>
    /// Reading <paramref name="file"/> fails with an <see cref="NpyFormatException"/>, from a seekable stream and from a
    /// forward-only one alike (same message), and the one-line message contains every one of <paramref name="words"/>.
    /// </summary>
    public static NpyFormatException ReadFails(byte[] file, params string[] words)
    {
        var seekable = Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(file)));
        var forwardOnly = Assert.Throws<NpyFormatException>(() => Npy.Read(new TrickleStream(file)));
        Assert.Equal(seekable.Message, forwardOnly.Message);
        OneLineContaining(seekable.Message, words);
        return seekable;
    }

    /// <summary>The message is one line and contains each word (case-insensitive).</summary>
    public static void OneLineContaining(string message, params string[] words)
    {
        Assert.False(message.Contains('\n') || message.Contains('\r'), $"The message must be one line: \"{message}\"");
        foreach (string word in words)
        {
            Assert.True(message.Contains(word, StringComparison.OrdinalIgnoreCase), $"Expected \"{word}\" in the message \"{message}\"");
        }
    }

    /// <summary>Same length and the same bits in every element (NaN payloads and the sign of zero included).</summary>
    public static void BitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context)
    {
        Assert.True(expected.Length == actual.Length, $"{context}: expected {expected.Length} elements, actual {actual.Length}.");
        for (int index = 0; index < expected.Length; index++)
        {
            int e = BitConverter.SingleToInt32Bits(expected[index]), a = BitConverter.SingleToInt32Bits(actual[index]);
            Assert.True(e == a, $"{context}: element {index}: expected {expected[index]:R} (0x{e:X8}), actual {actual[index]:R} (0x{a:X8}).");
        }
    }

    /// <summary>Each float64 value read back as the nearest float32 (C#'s cast rounds to nearest, ties to even); NaN stays NaN.</summary>
    public static void RoundedFrom(ReadOnlySpan<double> written, ReadOnlySpan<float> actual, string context)
    {
        Assert.True(written.Length == actual.Length, $"{context}: expected {written.Length} elements, actual {actual.Length}.");
        for (int index = 0; index < written.Length; index++)
        {
            float expected = (float)written[index];
            bool same = float.IsNaN(expected)
                ? float.IsNaN(actual[index])
                : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual[index]);
            Assert.True(same, $"{context}: element {index} ({written[index]:R}): expected {expected:R}, actual {actual[index]:R}.");
        }
    }

    public static void ShapeIs(int[] expected, NpyArray array, string context) =>
        Assert.True(expected.SequenceEqual(array.Shape), $"{context}: expected shape ({string.Join(", ", expected)}), actual ({string.Join(", ", array.Shape)}).");
}
