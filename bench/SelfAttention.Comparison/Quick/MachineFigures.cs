namespace SelfAttention.Comparison.Quick;

/// <summary>The controls measured in this process.</summary>
/// <param name="FmaPeak">Single-core FMA peak, GFLOP/s.</param>
/// <param name="StreamingRead">Single-core streaming read, GB/s.</param>
internal sealed record MachineFigures(double FmaPeak, double StreamingRead);
