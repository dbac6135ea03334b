using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Validation;

/// <summary>
/// Bad input to both single-head overloads of <see cref="Attention"/> and <see cref="NaiveAttention"/>: every case has
/// exactly one fault, must throw the contract's exception naming the faulty parameter before anything is written, and
/// both implementations must throw the same exception type with the same message.
/// </summary>
public class SingleHeadValidationTests
{
    private const float Sentinel = GuardedMatrix.Sentinel;

    /// <summary>A view over one of the case's buffers (0 query, 1 key, 2 value, 3 output, 4 weights).</summary>
    public sealed record ViewSpec(int Buffer, int Offset, int Height, int Width, int Pitch = 0);

    /// <summary>One bad call. The valid base is nq = 3, nk = 5, d = 4, dv = 6, each view in its own buffer.</summary>
    public sealed record BadCase(string Parameter, ViewSpec Query, ViewSpec Key, ViewSpec Value, ViewSpec Output, ViewSpec Weights, AttentionOptions Options, bool WeightsOnly = false);

    private static readonly ViewSpec s_query = new(0, 0, 3, 4), s_key = new(1, 0, 5, 4), s_value = new(2, 0, 5, 6), s_output = new(3, 0, 3, 6), s_weights = new(4, 0, 3, 5);

    private static BadCase Base(string parameter) => new(parameter, s_query, s_key, s_value, s_output, s_weights, default);

    private static readonly Dictionary<string, BadCase> s_cases = new()
    {
        ["head dim 0"] = Base("query") with { Query = s_query with { Width = 0 }, Key = s_key with { Width = 0 } },
        ["key width shorter"] = Base("key") with { Key = s_key with { Width = 3 } },
        ["key width longer"] = Base("key") with { Key = s_key with { Width = 5 } },
        ["value height shorter"] = Base("value") with { Value = s_value with { Height = 4 } },
        ["value height longer"] = Base("value") with { Value = s_value with { Height = 6 } },
        ["output height shorter"] = Base("output") with { Output = s_output with { Height = 2 } },
        ["output height longer"] = Base("output") with { Output = s_output with { Height = 4 } },
        ["output width shorter"] = Base("output") with { Output = s_output with { Width = 5 } },
        ["output width longer"] = Base("output") with { Output = s_output with { Width = 7 } },
        ["weights height shorter"] = Base("weights") with { Weights = s_weights with { Height = 2 }, WeightsOnly = true },
        ["weights height longer"] = Base("weights") with { Weights = s_weights with { Height = 4 }, WeightsOnly = true },
        ["weights width shorter"] = Base("weights") with { Weights = s_weights with { Width = 4 }, WeightsOnly = true },
        ["weights width longer"] = Base("weights") with { Weights = s_weights with { Width = 6 }, WeightsOnly = true },
        ["scale NaN"] = Base("options") with { Options = new() { Scale = float.NaN } },
        ["scale +inf"] = Base("options") with { Options = new() { Scale = float.PositiveInfinity } },
        ["scale -inf"] = Base("options") with { Options = new() { Scale = float.NegativeInfinity } },
        ["scale 0"] = Base("options") with { Options = new() { Scale = 0f } },
        ["scale -0"] = Base("options") with { Options = new() { Scale = -0f } },
        ["scale -1"] = Base("options") with { Options = new() { Scale = -1f } },
        ["normalization undefined (2)"] = Base("options") with { Options = new() { Normalization = (AttentionNormalization)2 } },
        ["normalization undefined (-1)"] = Base("options") with { Options = new() { Normalization = (AttentionNormalization)(-1) } },
        ["kernel undefined (max + 1)"] = Base("options") with { Options = new() { Kernel = (AttentionKernel)(Enum.GetValues<AttentionKernel>().Max(k => (int)k) + 1) } },
        ["kernel undefined (-1)"] = Base("options") with { Options = new() { Kernel = (AttentionKernel)(-1) } },
        ["kernel undefined (int.MaxValue)"] = Base("options") with { Options = new() { Kernel = (AttentionKernel)int.MaxValue } },
        ["parallelism -2"] = Base("options") with { Options = new() { MaxDegreeOfParallelism = -2 } },
        ["parallelism int.MinValue"] = Base("options") with { Options = new() { MaxDegreeOfParallelism = int.MinValue } },
        ["output overlaps query"] = Base("output") with { Output = s_output with { Buffer = 0, Offset = 5 } },
        ["output overlaps key"] = Base("output") with { Output = s_output with { Buffer = 1, Offset = 0 } },
        ["output overlaps value (last element)"] = Base("output") with { Output = s_output with { Buffer = 2, Offset = 29 } },
        ["output overlaps value through its pitch"] = Base("output") with { Value = s_value with { Pitch = 6 }, Output = s_output with { Buffer = 2, Offset = 9 } },
        ["weights overlap output"] = Base("weights") with { Weights = s_weights with { Buffer = 3, Offset = 17 }, WeightsOnly = true },
        ["weights overlap query"] = Base("weights") with { Weights = s_weights with { Buffer = 0, Offset = 0 }, WeightsOnly = true },
        ["weights overlap key"] = Base("weights") with { Weights = s_weights with { Buffer = 1, Offset = 3 }, WeightsOnly = true },
        ["weights overlap value"] = Base("weights") with { Weights = s_weights with { Buffer = 2, Offset = 10 }, WeightsOnly = true },
    };

    public static TheoryData<string> Cases => new(s_cases.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_ThrowsNamingTheParameter_BeforeWriting(string name)
    {
        var @case = s_cases[name];
        var overloads = @case.WeightsOnly ? new[] { true } : new[] { false, true };
        foreach (bool withWeights in overloads)
        {
            var exceptions = new List<ArgumentException>();
            foreach (bool reference in new[] { false, true })
            {
                float[][] buffers = Buffers(@case);
                string context = $"{(reference ? "NaiveAttention" : "Attention")}.Compute{(withWeights ? " with weights" : "")}, {name}";
                exceptions.Add(ContractAssert.Throws(() => Invoke(@case, buffers, reference, withWeights), @case.Parameter, context));
                ContractAssert.Untouched(buffers, Sentinel, context);
            }

            Assert.Equal(exceptions[0].GetType(), exceptions[1].GetType());
            Assert.Equal(exceptions[0].Message, exceptions[1].Message);
        }
    }

    /// <summary>Boundary values that are valid must not throw (the checks are not too strict), and the call must produce output.</summary>
    [Theory]
    [MemberData(nameof(ValidOptions))]
    public void ValidBoundaryOptions_DoNotThrow(string name)
    {
        var options = s_validOptions[name];
        foreach (bool reference in new[] { false, true })
        {
            var @case = Base("none") with { Options = options };
            float[][] buffers = Buffers(@case);
            buffers[0].AsSpan().Fill(0.5f);
            buffers[1].AsSpan().Fill(0.25f);
            buffers[2].AsSpan().Fill(1f);
            Invoke(@case, buffers, reference, withWeights: true);
            for (int i = 0; i < s_output.Height; i++)
            {
                for (int c = 0; c < s_output.Width; c++)
                {
                    float o = View(buffers, s_output)[i, c];
                    Assert.True(Math.Abs(o - 1f) <= 1e-6f, $"{name}: every value is 1, so output[{i}, {c}] must be 1, actual {o}.");
                }
            }
        }
    }

    private static readonly Dictionary<string, AttentionOptions> s_validOptions = new()
    {
        ["scale epsilon"] = new() { Scale = float.Epsilon },
        ["scale max"] = new() { Scale = float.MaxValue },
        ["parallelism -1"] = new() { MaxDegreeOfParallelism = -1 },
        ["parallelism 1"] = new() { MaxDegreeOfParallelism = 1 },
        ["parallelism 1000"] = new() { MaxDegreeOfParallelism = 1000 },
        ["sum normalisation, causal"] = new() { Normalization = AttentionNormalization.Sum, IsCausal = true },
    };

    public static TheoryData<string> ValidOptions => new(s_validOptions.Keys);

    private static float[][] Buffers(BadCase @case)
    {
        var specs = new[] { @case.Query, @case.Key, @case.Value, @case.Output, @case.Weights };
        var buffers = new float[5][];
        for (int index = 0; index < 5; index++)
        {
            int length = 8;
            foreach (var spec in specs.Where(s => s.Buffer == index))
            {
                length = Math.Max(length, spec.Offset + spec.Height * (spec.Width + spec.Pitch) + spec.Width + 1);
            }

            buffers[index] = Enumerable.Repeat(Sentinel, length).ToArray();
        }

        return buffers;
    }

    private static Span2D<float> View(float[][] buffers, ViewSpec spec) => new(buffers[spec.Buffer], spec.Offset, spec.Height, spec.Width, spec.Pitch);

    private static void Invoke(BadCase @case, float[][] buffers, bool reference, bool withWeights)
    {
        ReadOnlySpan2D<float> q = View(buffers, @case.Query), k = View(buffers, @case.Key), v = View(buffers, @case.Value);
        Span2D<float> o = View(buffers, @case.Output);
        if (withWeights)
        {
            Span2D<float> w = View(buffers, @case.Weights);
            if (reference)
            {
                NaiveAttention.Compute(q, k, v, o, w, @case.Options);
            }
            else
            {
                Attention.Compute(q, k, v, o, w, @case.Options);
            }
        }
        else if (reference)
        {
            NaiveAttention.Compute(q, k, v, o, @case.Options);
        }
        else
        {
            Attention.Compute(q, k, v, o, @case.Options);
        }
    }
}
