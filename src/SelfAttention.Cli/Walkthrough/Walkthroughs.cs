namespace SelfAttention.Cli.Walkthrough;

/// <summary>The classic examples, by number.</summary>
internal static class Walkthroughs
{
    /// <summary>How many examples there are; they are numbered from 1.</summary>
    public const int Count = 4;

    /// <summary>Builds example <paramref name="number"/> (1 to <see cref="Count"/>), running every step through the library.</summary>
    public static WalkthroughExample Build(int number) => number switch
    {
        1 => Example1Scaling.Build(),
        2 => Example2Normalisation.Build(),
        3 => Example3Projections.Build(),
        4 => Example4MultiHead.Build(),
        _ => throw new ArgumentOutOfRangeException(nameof(number), number, $"number: expected 1 to {Count}, actual {number}."),
    };

    /// <summary>Example <paramref name="number"/>, or all of them when it is null.</summary>
    public static IReadOnlyList<WalkthroughExample> Select(int? number) =>
        number is { } n ? [Build(n)] : Enumerable.Range(1, Count).Select(Build).ToArray();
}
