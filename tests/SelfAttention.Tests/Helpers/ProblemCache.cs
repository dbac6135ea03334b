using System.Collections.Concurrent;

namespace SelfAttention.Tests.Helpers;

/// <summary>Builds each <see cref="SingleHeadProblem"/> (inputs and reference results) once, shared by every kernel tested on it.</summary>
public static class ProblemCache
{
    private static readonly ConcurrentDictionary<AttentionCase, Lazy<SingleHeadProblem>> s_problems = new();

    public static SingleHeadProblem Get(AttentionCase @case) =>
        s_problems.GetOrAdd(@case, c => new Lazy<SingleHeadProblem>(() => new SingleHeadProblem(c))).Value;
}
