using SelfAttention.Transformers;
using SelfAttention.Transformers.Reference;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to the transformer blocks: a destination of the wrong length, and a destination that overlaps the
/// input without being the same span (in place, the very same span, is valid); nothing may be written.
/// </summary>
public class TransformersAdversarialTests
{
    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private delegate void SpanFunction(ReadOnlySpan<float> x, Span<float> destination);

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        foreach (var (target, name, function) in new (string, string, SpanFunction)[]
        {
            (Api.ActivationsErf, "Erf", Activations.Erf),
            (Api.ActivationsGelu, "Gelu", Activations.Gelu),
            (Api.ActivationsGeluTanh, "GeluTanh", Activations.GeluTanh),
            (Api.ActivationsSilu, "Silu", Activations.Silu),
        })
        {
            table.Add($"{name}: destination one short", () =>
            {
                float[] x = BadCall.Sentinels(33), d = BadCall.Sentinels(32);
                return new BadCall { Target = target, Parameter = "destination", Quotes = ["33", "32"], Watched = [x, d], Call = () => function(x, d) };
            });
            table.Add($"{name}: destination one longer", () =>
            {
                float[] x = BadCall.Sentinels(8), d = BadCall.Sentinels(9);
                return new BadCall { Target = target, Parameter = "destination", Quotes = ["8", "9"], Watched = [x, d], Call = () => function(x, d) };
            });
            table.Add($"{name}: destination one element ahead of x", () =>
            {
                float[] buffer = BadCall.Sentinels(41);
                return new BadCall { Target = target, Parameter = "destination", Watched = [buffer], Call = () => function(buffer.AsSpan(0, 40), buffer.AsSpan(1, 40)) };
            });
            table.Add($"{name}: destination one element behind x", () =>
            {
                float[] buffer = BadCall.Sentinels(41);
                return new BadCall { Target = target, Parameter = "destination", Watched = [buffer], Call = () => function(buffer.AsSpan(1, 40), buffer.AsSpan(0, 40)) };
            });
        }

        AddNorms(table);
        return table;
    }

    // The four norm entry points (fast and reference share the validation) against one list of bad calls. Shapes:
    // 2 rows of width 4 unless the case says otherwise.
    private static void AddNorms(BadCallTable table)
    {
        foreach (string target in new[] { Api.NormsLayerNorm, Api.NormsRmsNorm, Api.NaiveLayerNorm, Api.NaiveRmsNorm })
        {
            string name = target == Api.NormsLayerNorm ? "LayerNorm" : target == Api.NormsRmsNorm ? "RmsNorm" : target == Api.NaiveLayerNorm ? "NaiveLayerNorm" : "NaiveRmsNorm";
            bool layer = target is Api.NormsLayerNorm or Api.NaiveLayerNorm, naive = target is Api.NaiveLayerNorm or Api.NaiveRmsNorm;
            void Call(float[] x, float[] r, float[] g, float[] b, float[] o, float epsilon, int outputOffset = 0, int outputLength = -1)
            {
                int length = outputLength < 0 ? o.Length - outputOffset : outputLength;
                if (naive)
                {
                    var d = new double[length];
                    if (layer) NaiveNorms.LayerNorm(x, r, g, b, d, epsilon);
                    else NaiveNorms.RmsNorm(x, r, g, d, epsilon);
                }
                else if (layer)
                {
                    Norms.LayerNorm(x, r, g, b, o.AsSpan(outputOffset, length), epsilon);
                }
                else
                {
                    Norms.RmsNorm(x, r, g, o.AsSpan(outputOffset, length), epsilon);
                }
            }

            void Case(string what, string parameter, string[] quotes, Func<(float[] X, float[] R, float[] G, float[] B, float[] O, float Epsilon)> make)
            {
                table.Add($"{name}: {what}", () =>
                {
                    var (x, r, g, b, o, epsilon) = make();
                    return new BadCall { Target = target, Parameter = parameter, Quotes = quotes, Watched = [x, r, g, b, o], Call = () => Call(x, r, g, b, o, epsilon) };
                });
            }

            float[] S(int n) => BadCall.Sentinels(n);
            Case("gamma empty", "gamma", ["0"], () => (S(8), [], [], [], S(8), 1e-5f));
            Case("input not a whole number of rows", "input", ["4", "9"], () => (S(9), [], S(4), [], S(9), 1e-5f));
            Case("residual one short", "residual", ["8", "7"], () => (S(8), S(7), S(4), [], S(8), 1e-5f));
            Case("output one short", "output", ["8", "7"], () => (S(8), [], S(4), [], S(7), 1e-5f));
            Case("epsilon negative", "epsilon", ["-1"], () => (S(8), [], S(4), [], S(8), -1f));
            Case("epsilon NaN", "epsilon", [], () => (S(8), [], S(4), [], S(8), float.NaN));
            Case("epsilon infinite", "epsilon", [], () => (S(8), [], S(4), [], S(8), float.PositiveInfinity));
            if (layer)
            {
                Case("beta one short", "beta", ["4", "3"], () => (S(8), [], S(4), S(3), S(8), 1e-5f));
            }

            if (!naive)
            {
                table.Add($"{name}: output one element ahead of the input", () =>
                {
                    float[] buffer = S(9), g = S(4);
                    return new BadCall
                    {
                        Target = target, Parameter = "output", Watched = [buffer, g],
                        Call = () =>
                        {
                            if (layer) Norms.LayerNorm(buffer.AsSpan(0, 8), [], g, [], buffer.AsSpan(1, 8));
                            else Norms.RmsNorm(buffer.AsSpan(0, 8), [], g, buffer.AsSpan(1, 8));
                        },
                    };
                });
                table.Add($"{name}: output over gamma", () =>
                {
                    float[] x = S(8), buffer = S(8);
                    return new BadCall
                    {
                        Target = target, Parameter = "output", Watched = [x, buffer],
                        Call = () =>
                        {
                            if (layer) Norms.LayerNorm(x, [], buffer.AsSpan(0, 4), [], buffer);
                            else Norms.RmsNorm(x, [], buffer.AsSpan(0, 4), buffer);
                        },
                    };
                });
            }
        }
    }
}
