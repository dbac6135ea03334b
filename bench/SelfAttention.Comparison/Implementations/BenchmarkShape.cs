namespace SelfAttention.Comparison.Implementations;

/// <summary>
/// A named shape of DESIGN.md §6, batch 1. <see cref="ToString"/> is what BenchmarkDotNet shows and filters match
/// (<c>--filter *Toy*</c>; the decode shape is <c>*Decode4096*</c>, apart from the <c>Decode</c> kernel).
/// </summary>
/// <param name="Name">Short name used in tables and filters.</param>
/// <param name="Aliases">Names accepted by <c>quick --shapes</c>, besides <paramref name="Name"/>.</param>
/// <param name="Shape">The attention shape.</param>
/// <param name="IncludesSlowImplementations">Whether the implementations marked <see cref="AttentionImplementation.IsSlow"/> (the naive oracle among them) are timed here: they take seconds per call at the long shapes.</param>
public sealed record BenchmarkShape(string Name, string[] Aliases, AttentionShape Shape, bool IncludesSlowImplementations)
    : IComparable<BenchmarkShape>, IComparable
{
    /// <summary>The shapes of DESIGN.md §6, in table order.</summary>
    public static IReadOnlyList<BenchmarkShape> All { get; } =
    [
        new("Toy", ["toy"], new AttentionShape(1, 3, 3, 1, 4), true),
        new("BertBase", ["bert", "128"], new AttentionShape(1, 128, 128, 12, 64), true),
        new("Seq512", ["512"], new AttentionShape(1, 512, 512, 12, 64), false),
        new("Seq2048", ["2048"], new AttentionShape(1, 2048, 2048, 8, 64), false),
        new("Seq4096", ["4096"], new AttentionShape(1, 4096, 4096, 1, 128), false),
        new("Decode4096", ["decode"], new AttentionShape(1, 1, 4096, 32, 128), true),
    ];

    /// <summary>
    /// Dense flops per call, 2·B·H·nq·nk·(d + dv) (= 4·B·H·nq·nk·d when dv = d): the two matrix products. A causal call
    /// is still counted dense, so its GFLOP/s is comparable across masks but is not the work actually done.
    /// </summary>
    public double Flops => 2.0 * Shape.Batch * Shape.Heads * Shape.QueryLength * Shape.KeyLength * (Shape.HeadDim + Shape.ValueDim);

    /// <summary>Bytes of K and V read once per call, 4·B·nk·KvH·(d + dv): the measure of the memory-bound decode shape.</summary>
    public double KeyValueBytes => 4.0 * Shape.Batch * Shape.KeyLength * Shape.KvHeads * (Shape.HeadDim + Shape.ValueDim);

    /// <summary>True for the one-query-row shape, reported as GB/s of K+V.</summary>
    public bool IsDecode => Shape.QueryLength == 1;

    /// <summary>The shape as (H, nq, nk, d), the notation of DESIGN.md §6.</summary>
    public string Dimensions => $"B={Shape.Batch} H={Shape.Heads} nq={Shape.QueryLength} nk={Shape.KeyLength} d={Shape.HeadDim}";

    /// <summary>Finds a shape by name or alias, case-insensitive; <see langword="null"/> if none matches.</summary>
    public static BenchmarkShape? Find(string nameOrAlias)
    {
        foreach (var shape in All)
        {
            if (string.Equals(shape.Name, nameOrAlias, StringComparison.OrdinalIgnoreCase)
                || Array.Exists(shape.Aliases, a => string.Equals(a, nameOrAlias, StringComparison.OrdinalIgnoreCase)))
            {
                return shape;
            }
        }

        return null;
    }

    /// <summary>Orders shapes as in <see cref="All"/> (BenchmarkDotNet sorts parameters through <see cref="IComparable"/>).</summary>
    public int CompareTo(BenchmarkShape? other) =>
        other is null ? 1 : IndexOf(this).CompareTo(IndexOf(other));

    /// <inheritdoc/>
    public int CompareTo(object? obj) => CompareTo(obj as BenchmarkShape);

    /// <summary>Name, heads and head width: short enough (≤ 20 characters) that BenchmarkDotNet does not truncate it; the lengths are in the name.</summary>
    public override string ToString() => $"{Name} H{Shape.Heads} d{Shape.HeadDim}";

    private static int IndexOf(BenchmarkShape shape)
    {
        for (int n = 0; n < All.Count; n++)
        {
            if (All[n].Name == shape.Name)
            {
                return n;
            }
        }

        return All.Count;
    }
}
