using System.Runtime.Intrinsics;
using SelfAttention.Kernels;
using SelfAttention.Kernels.Masks;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// The boolean mask's tile modification (bytes widened to 0/−∞ biases a vector at a time, lanes × lanes blocks
/// transposed in registers) against its element rule, at every width the CPU runs: ragged rows and keys, any non-zero
/// byte as true, contiguous and strided keys, tiles that start inside the mask.
/// </summary>
public unsafe class BooleanMaskTileTests
{
    private static void AssertTile<TV, TOps>(int rows, int keys, int keyStride, int i0, int j0)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = 4 * w, queryLength = i0 + rows, keyLength = j0 + keys;
        var random = new Random(rows * 1000 + keys * 10 + keyStride);
        byte[] bytes = new byte[queryLength * keyLength * keyStride];
        byte[] values = { 0, 1, 2, 7, 128, 255 };
        for (int n = 0; n < bytes.Length; n++)
        {
            bytes[n] = random.Next(3) == 0 ? (byte)0 : values[random.Next(values.Length)];
        }

        float[] tile = new float[Math.Max(keys, 1) * bq];
        for (int n = 0; n < tile.Length; n++)
        {
            tile[n] = (float)(random.NextDouble() * 20 - 10);
        }

        float[] expected = (float[])tile.Clone();
        var layout = new DenseMaskLayout(0, 0, (nint)keyLength * keyStride, keyStride);
        fixed (byte* m = bytes)
        fixed (float* st = tile)
        {
            var mask = new BooleanMask(m, layout, keyLength).ForHead(0, 0);
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < keys; j++)
                {
                    expected[j * bq + r] = (float)mask.ModifyScore(expected[j * bq + r], i0 + r, j0 + j);
                }
            }

            mask.ModifyTile<TV, TOps>(st, bq, i0, rows, j0, keys);
        }

        for (int n = 0; n < tile.Length; n++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[n]) == BitConverter.SingleToInt32Bits(tile[n]),
                        $"{w} lanes, rows {rows} from {i0}, keys {keys} from {j0}, key stride {keyStride}: element {n} (key {n / bq}, row {n % bq}) is {tile[n]:R}, expected {expected[n]:R}");
        }
    }

    private static void AssertEveryWidth(int rowsPerLane, int rowsExtra, int keys, int keyStride, int i0, int j0)
    {
        void One<TV, TOps>() where TV : struct where TOps : struct, IFloatVector<TV> =>
            AssertTile<TV, TOps>(Math.Min(4 * TOps.Count, rowsPerLane * TOps.Count + rowsExtra), keys, keyStride, i0, j0);

        One<float, ScalarOps>();
        One<Vector128<float>, Vector128Ops>();
        if (Vector256.IsHardwareAccelerated)
        {
            One<Vector256<float>, Vector256Ops>();
        }

        if (Vector512.IsHardwareAccelerated)
        {
            One<Vector512<float>, Vector512Ops>();
        }
    }

    [Theory]
    [InlineData(4, 0, 128, 1, 0, 0)]
    [InlineData(4, 0, 37, 1, 3, 5)]
    [InlineData(2, 3, 19, 1, 0, 128)]
    [InlineData(1, 0, 1, 1, 7, 0)]
    [InlineData(0, 5, 64, 1, 0, 0)]
    [InlineData(3, 1, 33, 2, 1, 1)]
    [InlineData(4, 0, 0, 1, 0, 0)]
    public void ModifyTile_MatchesTheElementRule(int rowsPerLane, int rowsExtra, int keys, int keyStride, int i0, int j0) =>
        AssertEveryWidth(rowsPerLane, rowsExtra, keys, keyStride, i0, j0);
}
