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
        AddLinear(table);
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

    // The layer's constructor and Forward, and the reference (which shares both sets of checks).
    private static void AddLinear(BadCallTable table)
    {
        float[] S(int n) => BadCall.Sentinels(n);
        foreach (bool naive in new[] { false, true })
        {
            string target = naive ? Api.NaiveLinearForward : Api.LinearCtor, prefix = naive ? "NaiveLinear" : "Linear";
            void Construct(float[] w, float[] b, int inFeatures, int outFeatures, LinearWeightLayout layout = LinearWeightLayout.InputMajor, LinearActivation activation = LinearActivation.None)
            {
                if (naive) NaiveLinear.Forward(new float[Math.Clamp(inFeatures, 1, 16)], w, b, inFeatures, outFeatures, layout, activation, new double[Math.Clamp(outFeatures, 0, 16)]);
                else _ = new Linear(w, b, inFeatures, outFeatures, layout, activation);
            }

            table.Add($"{prefix}: inFeatures 0", () => new BadCall { Target = target, Parameter = "inFeatures", Quotes = ["0"], Call = () => Construct([], [], 0, 4) });
            table.Add($"{prefix}: outFeatures negative", () => new BadCall { Target = target, Parameter = "outFeatures", Quotes = ["-1"], Call = () => Construct([], [], 4, -1) });
            table.Add($"{prefix}: weights one short", () => { float[] w = S(11); return new BadCall { Target = target, Parameter = "weights", Quotes = ["12", "11"], Watched = [w], Call = () => Construct(w, [], 3, 4) }; });
            table.Add($"{prefix}: bias one short", () => { float[] w = S(12), b = S(3); return new BadCall { Target = target, Parameter = "bias", Quotes = ["4", "3"], Watched = [w, b], Call = () => Construct(w, b, 3, 4) }; });
            table.Add($"{prefix}: sizes past Array.MaxLength", () => new BadCall { Target = target, Parameter = "weights", Quotes = ["4611686014132420609"], Call = () => Construct([], [], int.MaxValue, int.MaxValue) });
            table.Add($"{prefix}: undefined layout", () => new BadCall { Target = target, Parameter = "layout", Quotes = ["7"], Call = () => Construct(S(12), [], 3, 4, (LinearWeightLayout)7) });
            table.Add($"{prefix}: undefined activation", () => new BadCall { Target = target, Parameter = "activation", Quotes = ["-3"], Call = () => Construct(S(12), [], 3, 4, activation: (LinearActivation)(-3)) });
        }

        var layer = new Linear(new float[12], [], 3, 4);
        table.Add("Linear.Forward: input not a whole number of rows", () => { float[] x = S(7), y = S(8); return new BadCall { Target = Api.LinearForward, Parameter = "input", Quotes = ["3", "7"], Watched = [x, y], Call = () => layer.Forward(x, y) }; });
        table.Add("Linear.Forward: output one short", () => { float[] x = S(6), y = S(7); return new BadCall { Target = Api.LinearForward, Parameter = "output", Quotes = ["8", "7"], Watched = [x, y], Call = () => layer.Forward(x, y) }; });
        table.Add("Linear.Forward: degree -2", () => { float[] x = S(6), y = S(8); return new BadCall { Target = Api.LinearForward, Parameter = "maxDegreeOfParallelism", Quotes = ["-2"], Watched = [x, y], Call = () => layer.Forward(x, y, -2) }; });
        table.Add("Linear.Forward: output over the input", () =>
        {
            float[] buffer = S(12);
            return new BadCall { Target = Api.LinearForward, Parameter = "output", Watched = [buffer], Call = () => layer.Forward(buffer.AsSpan(0, 6), buffer.AsSpan(4, 8)) };
        });
        table.Add("NaiveLinear: input not a whole number of rows", () => new BadCall
        {
            Target = Api.NaiveLinearForward, Parameter = "input", Quotes = ["3", "7"],
            Call = () => NaiveLinear.Forward(new float[7], new float[12], [], 3, 4, LinearWeightLayout.InputMajor, LinearActivation.None, new double[8]),
        });
        table.Add("NaiveLinear: output one short", () => new BadCall
        {
            Target = Api.NaiveLinearForward, Parameter = "output", Quotes = ["8", "7"],
            Call = () => NaiveLinear.Forward(new float[6], new float[12], [], 3, 4, LinearWeightLayout.InputMajor, LinearActivation.None, new double[7]),
        });
    }
}
