using SelfAttention.Transformers;
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

        return table;
    }
}
