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
        AddEncoderLayer(table);
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
            table.Add($"{prefix}: columns that fit one array only before padding to whole panels", () => new BadCall { Target = target, Parameter = "weights", Quotes = ["rounded up"], Call = () => Construct([], [], 1, Array.MaxLength) });
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

    // The encoder layer's constructor (weights and options), its Forward, the reference, and the random weights.
    private static void AddEncoderLayer(BadCallTable table)
    {
        var good = EncoderLayerWeights.CreateRandom(8, 16, 1);
        var options = new EncoderLayerOptions { Heads = 2 };
        foreach (bool naive in new[] { false, true })
        {
            string target = naive ? Api.NaiveEncoderLayerForward : Api.EncoderLayerCtor, prefix = naive ? "NaiveEncoderLayer" : "EncoderLayer";
            void Build(EncoderLayerWeights? w, EncoderLayerOptions? o)
            {
                if (naive) NaiveEncoderLayer.Forward(w!, o!, new float[8], new double[8], 1, 1);
                else _ = new EncoderLayer(w!, o!);
            }

            table.Add($"{prefix}: weights null", () => new BadCall { Target = target, Parameter = "weights", Call = () => Build(null, options) });
            table.Add($"{prefix}: options null", () => new BadCall { Target = target, Parameter = "options", Call = () => Build(good, null) });
            table.Add($"{prefix}: heads do not divide d", () => new BadCall { Target = target, Parameter = "options", Quotes = ["8", "3"], Call = () => Build(good, options with { Heads = 3 }) });
            table.Add($"{prefix}: epsilon negative", () => new BadCall { Target = target, Parameter = "options", Quotes = ["-1"], Call = () => Build(good, options with { LayerNormEpsilon = -1 }) });
            table.Add($"{prefix}: query weights one short", () => new BadCall { Target = target, Parameter = "weights", Quotes = ["64", "63"], Call = () => Build(good with { QueryWeights = new float[63] }, options) });
            table.Add($"{prefix}: feed-forward down bias one short", () => new BadCall { Target = target, Parameter = "weights", Quotes = ["8", "7"], Call = () => Build(good with { FeedForwardDownBias = new float[7] }, options) });
            table.Add($"{prefix}: second norm's gamma missing", () => new BadCall { Target = target, Parameter = "weights", Quotes = ["8", "0"], Call = () => Build(good with { FeedForwardNormGamma = null! }, options) });
            table.Add($"{prefix}: undefined activation", () => new BadCall { Target = target, Parameter = "activation", Call = () => Build(good, options with { FeedForwardActivation = (LinearActivation)9 }) });
        }

        table.Add("NaiveEncoderLayer: batch negative", () => new BadCall { Target = Api.NaiveEncoderLayerForward, Parameter = "batch", Call = () => NaiveEncoderLayer.Forward(good, options, [], [], -1, 1) });
        table.Add("NaiveEncoderLayer: input one short", () => new BadCall { Target = Api.NaiveEncoderLayerForward, Parameter = "input", Quotes = ["16", "15"], Call = () => NaiveEncoderLayer.Forward(good, options, new float[15], new double[16], 1, 2) });
        table.Add("NaiveEncoderLayer: output one short", () => new BadCall { Target = Api.NaiveEncoderLayerForward, Parameter = "output", Quotes = ["16", "15"], Call = () => NaiveEncoderLayer.Forward(good, options, new float[16], new double[15], 1, 2) });

        var layer = new EncoderLayer(good, options);
        float[] S(int n) => BadCall.Sentinels(n);
        table.Add("EncoderLayer.Forward: batch negative", () => { float[] x = S(8), y = S(8); return new BadCall { Target = Api.EncoderLayerForward, Parameter = "batch", Quotes = ["-1"], Watched = [x, y], Call = () => layer.Forward(x, y, -1, 1) }; });
        table.Add("EncoderLayer.Forward: sequence length negative", () => { float[] x = S(8), y = S(8); return new BadCall { Target = Api.EncoderLayerForward, Parameter = "sequenceLength", Quotes = ["-4"], Watched = [x, y], Call = () => layer.Forward(x, y, 1, -4) }; });
        table.Add("EncoderLayer.Forward: input one short", () => { float[] x = S(15), y = S(16); return new BadCall { Target = Api.EncoderLayerForward, Parameter = "input", Quotes = ["16", "15"], Watched = [x, y], Call = () => layer.Forward(x, y, 1, 2) }; });
        table.Add("EncoderLayer.Forward: output one long", () => { float[] x = S(16), y = S(17); return new BadCall { Target = Api.EncoderLayerForward, Parameter = "output", Quotes = ["16", "17"], Watched = [x, y], Call = () => layer.Forward(x, y, 1, 2) }; });
        table.Add("EncoderLayer.Forward: sizes past Array.MaxLength", () => new BadCall { Target = Api.EncoderLayerForward, Parameter = "input", Call = () => layer.Forward([], [], int.MaxValue, int.MaxValue) });
        table.Add("EncoderLayer.Forward: degree -2", () => { float[] x = S(16), y = S(16); return new BadCall { Target = Api.EncoderLayerForward, Parameter = "maxDegreeOfParallelism", Quotes = ["-2"], Watched = [x, y], Call = () => layer.Forward(x, y, 1, 2, -2) }; });
        table.Add("EncoderLayer.Forward: output one element ahead of the input", () =>
        {
            float[] buffer = S(17);
            return new BadCall { Target = Api.EncoderLayerForward, Parameter = "output", Watched = [buffer], Call = () => layer.Forward(buffer.AsSpan(0, 16), buffer.AsSpan(1, 16), 1, 2) };
        });
        table.Add("EncoderLayerWeights.CreateRandom: modelDim 0", () => new BadCall { Target = Api.EncoderLayerWeightsCreateRandom, Parameter = "modelDim", Call = () => EncoderLayerWeights.CreateRandom(0, 4, 1) });
        table.Add("EncoderLayerWeights.CreateRandom: feedForwardDim negative", () => new BadCall { Target = Api.EncoderLayerWeightsCreateRandom, Parameter = "feedForwardDim", Call = () => EncoderLayerWeights.CreateRandom(4, -1, 1) });
    }
}
