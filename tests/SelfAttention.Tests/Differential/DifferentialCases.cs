using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Differential;

/// <summary>
/// The single-head shapes every kernel is checked on against the reference. Lengths and head dims straddle the vector
/// widths (4, 8, 16 lanes), the row blocks and the key and query tiles, so every tail and block boundary is crossed;
/// each case is drawn from a fixed seed, so a failure names a shape that reproduces.
/// </summary>
public static class DifferentialCases
{
    public static readonly int[] Lengths = [1, 2, 3, 17, 63, 65, 127, 129];

    public static readonly int[] HeadDims = [1, 3, 4, 7, 63, 64, 65, 80, 128, 256];

    private static readonly Lazy<Dictionary<string, AttentionCase>> s_cases = new(() => Build().ToDictionary(c => c.ToString()));

    /// <summary>Every case by its description.</summary>
    public static IReadOnlyDictionary<string, AttentionCase> ByName => s_cases.Value;

    /// <summary>(case, kernel) for every case and every <see cref="AttentionKernel"/>.</summary>
    public static TheoryData<string, AttentionKernel> CasesAndKernels
    {
        get
        {
            var data = new TheoryData<string, AttentionKernel>();
            foreach (string name in ByName.Keys)
            {
                foreach (var kernel in TestInputs.Kernels)
                {
                    data.Add(name, kernel);
                }
            }

            return data;
        }
    }

    private static List<AttentionCase> Build()
    {
        var rng = new Random(TestInputs.DefaultSeed);
        int Pick(int[] values) => values[rng.Next(values.Length)];
        int seed = 1;
        var cases = new List<AttentionCase>();
        void Add(AttentionCase c) => cases.Add(c with { Seed = seed++ });

        // Square self-attention at every length, causal and not, with a random head dim.
        foreach (int length in Lengths)
        {
            int d = Pick(HeadDims);
            Add(new AttentionCase(length, length, d, d));
            Add(new AttentionCase(length, length, d, d) { IsCausal = true });
        }

        // Every head dim, with random lengths; half of them with a different value dim.
        for (int index = 0; index < HeadDims.Length; index++)
        {
            int d = HeadDims[index];
            int dv = index % 2 == 0 ? d : Pick(HeadDims);
            Add(new AttentionCase(Pick(Lengths), Pick(Lengths), d, dv) { IsCausal = index % 3 == 0 });
        }

        // Causal with nq ≠ nk both ways; with nq > nk the first nq − nk rows see no key and must be zero.
        foreach (var (nq, nk) in new[] { (1, 129), (3, 65), (17, 127), (2, 1), (63, 2), (65, 17), (129, 63), (127, 129) })
        {
            int d = Pick(HeadDims);
            Add(new AttentionCase(nq, nk, d, d) { IsCausal = true });
        }

        // Non-causal with nq ≠ nk.
        Add(new AttentionCase(129, 3, 64, 64));
        Add(new AttentionCase(2, 65, 63, 63));

        // Empty sides: no keys (every row is zero) and no queries (nothing to write).
        Add(new AttentionCase(5, 0, 8, 8));
        Add(new AttentionCase(17, 0, 65, 3) { IsCausal = true, Normalization = AttentionNormalization.Sum });
        Add(new AttentionCase(0, 17, 8, 8));
        Add(new AttentionCase(0, 0, 1, 1) { IsCausal = true });

        // A few long ones (the reference costs nq·nk·(d + dv) double operations).
        Add(new AttentionCase(1000, 1000, 64, 64) { IsCausal = true });
        Add(new AttentionCase(1, 1000, 128, 128));
        Add(new AttentionCase(65, 1000, 63, 65) { IsCausal = true });
        Add(new AttentionCase(1000, 3, 4, 4) { IsCausal = true });

        // Sum normalisation, on positive query and key so Σs stays far from 0.
        Add(new AttentionCase(17, 63, 64, 64) { Normalization = AttentionNormalization.Sum, PositiveScores = true });
        Add(new AttentionCase(129, 129, 7, 7) { Normalization = AttentionNormalization.Sum, PositiveScores = true, IsCausal = true });
        Add(new AttentionCase(65, 17, 80, 80) { Normalization = AttentionNormalization.Sum, PositiveScores = true, IsCausal = true });
        Add(new AttentionCase(1, 127, 128, 3) { Normalization = AttentionNormalization.Sum, PositiveScores = true });
        Add(new AttentionCase(3, 3, 4, 4) { Normalization = AttentionNormalization.Sum, PositiveScores = true, Scale = 1f });

        // Custom scales.
        Add(new AttentionCase(17, 65, 64, 64) { Scale = 1f });
        Add(new AttentionCase(63, 63, 128, 128) { Scale = 0.01f, IsCausal = true });
        Add(new AttentionCase(129, 17, 7, 7) { Scale = 3.7f });
        Add(new AttentionCase(65, 127, 256, 256) { Scale = 0.125f, IsCausal = true });

        // Value dim ≠ head dim.
        Add(new AttentionCase(17, 65, 64, 80));
        Add(new AttentionCase(63, 63, 7, 1) { IsCausal = true });
        Add(new AttentionCase(129, 17, 128, 3) { IsCausal = true });
        Add(new AttentionCase(2, 3, 1, 256));

        // Magnitude 30: peaky softmax, scores in the thousands.
        Add(new AttentionCase(17, 63, 64, 64, 30f));
        Add(new AttentionCase(129, 127, 128, 128, 30f) { IsCausal = true });
        Add(new AttentionCase(65, 129, 256, 256, 30f));
        Add(new AttentionCase(63, 65, 7, 7, 30f) { IsCausal = true, Scale = 1f });
        Add(new AttentionCase(1, 129, 80, 80, 30f));
        Add(new AttentionCase(127, 17, 1, 1, 30f));

        // Contiguous views (no pitch).
        Add(new AttentionCase(65, 63, 64, 64) { Pitched = false });
        Add(new AttentionCase(17, 17, 3, 3) { Pitched = false, IsCausal = true });

        // Random mixtures of everything above.
        for (int index = 0; index < 12; index++)
        {
            bool sum = rng.Next(4) == 0;
            bool large = !sum && rng.Next(3) == 0;
            int d = Pick(HeadDims);
            Add(new AttentionCase(rng.Next(2) == 0 ? Pick(Lengths) : rng.Next(1, 200), rng.Next(2) == 0 ? Pick(Lengths) : rng.Next(1, 200), d, rng.Next(2) == 0 ? d : Pick(HeadDims), large ? 30f : 1f)
            {
                IsCausal = rng.Next(2) == 0,
                Normalization = sum ? AttentionNormalization.Sum : AttentionNormalization.Softmax,
                PositiveScores = sum,
                Scale = rng.Next(3) == 0 ? (float)(0.05 + rng.NextDouble()) : null,
                Pitched = rng.Next(4) != 0,
            });
        }

        return cases;
    }
}
