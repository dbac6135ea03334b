using System.Reflection;
using System.Runtime.CompilerServices;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Keeps the adversarial suite complete: every public method and constructor of the library and of the transformer
/// blocks (SelfAttention.Transformers), found by reflection, must
/// be attacked by at least one bad-call table, or be listed here as taking no argument that can be wrong, with the test
/// that pins its behaviour on edge values. A new public member without an entry fails the build's tests, and so does an
/// entry for a member that no longer exists. The .npy reader and writer (namespace SelfAttention.IO) are fuzzed by
/// their own suite and left out here.
/// </summary>
public class PublicSurfaceTests
{
    /// <summary>Members with no invalid argument, each with the test that exercises its edge values.</summary>
    private static readonly Dictionary<string, string> s_noBadInput = new()
    {
        [Api.AttentionShapeCtor] = "plain data; every field is validated where the shape is used (MultiHeadAdversarialTests)",
        [Api.AttentionWindowCtor] = "plain data; both sides are validated where the options are used (SingleHeadAdversarialTests.BadOptions: window left -2, right int.MinValue)",
        [Api.RandomCtor] = "every seed is valid: RandomAdversarialTests.EverySeed_IsValid",
        [Api.RandomNextUInt64] = "no arguments: RandomAdversarialTests.EverySeed_IsValid",
        [Api.RandomNextSingle] = "no arguments: RandomAdversarialTests.NextSingle_StaysInTheUnitInterval",
        [Api.KvCacheClear] = "no arguments: KvCacheAdversarialTests.Clear_KeepsCapacityAndForgetsTokens",
        [Api.TokenizerCtor] = "either flag is valid: TokenizationAdversarialTests.Tokenizer_EitherCase",
        [Api.WarmupRun] = "one argument, a degree: Warmup tests: Run_DegreeBelowMinusOne_ThrowsNamingIt covers −2 and int.MinValue",
        [Api.EncoderLayerOptionsCtor] = "plain data; EncoderLayer's constructor checks it (TransformersAdversarialTests: heads, epsilon)",
        [Api.EncoderLayerWeightsCtor] = "plain data; EncoderLayer's constructor checks every length (TransformersAdversarialTests)",
        [Api.ActivationsErfScalar] = "every float is valid: ActivationTests.SpecialValues and the grid of every binade",
        [Api.NaiveErf] = "every double is valid: NaiveActivationsTests.SpecialValues",
        [Api.NaiveErfc] = "every double is valid: NaiveActivationsTests.Erfc_MatchesTabulatedValuesToFifteenDigits, SpecialValues",
        [Api.NaiveGelu] = "every double is valid: NaiveActivationsTests.SpecialValues",
        [Api.NaiveGeluTanh] = "every double is valid: NaiveActivationsTests.SpecialValues",
        [Api.NaiveSilu] = "every double is valid: NaiveActivationsTests.SpecialValues",
        [Api.MaskStridesCtor] = "plain data; the strides are validated where the modifiers are used (ModifierAdversarialTests: a negative stride, strides past the mask)",
        [Api.MaskStridesShared] = "plain data, validated at use (ModifierAdversarialTests)",
        [Api.MaskStridesBroadcast] = "plain data, validated at use (ModifierAdversarialTests: strides past the mask)",
        [Api.EmbeddingWeightsCtor] = "plain data; TokenEmbeddings' constructor checks every table (ModelAdversarialTests)",
        [Api.EncoderWeightsCtor] = "plain data; TransformerEncoder's constructor checks it (ModelAdversarialTests)",
        [Api.SafeTensorCtor] = "plain data; SafeTensors.Write checks shape against values (ModelAdversarialTests)",
        [Api.ModelFormatExceptionCtor] = "an exception's constructor: every string is valid (LoaderTests read its FilePath and message)",
        [Api.OnnxEncoderLoaderLoad] = "a path: null and empty in ModelAdversarialTests; bad files in LoaderTests.ABrokenOnnxFileIsOneClearError",
        [Api.SafeTensorsRead] = "a path: null and empty in ModelAdversarialTests; bad files in LoaderTests.ABrokenSafetensorsFileIsOneClearError",
        [Api.ModifierIsVisible] = "implemented by users; what the kernels ask is pinned by UserModifierTests.Kernels_AskOnlyAboutElementsInsideEachSequence",
        [Api.ModifierModifyScore] = "implemented by users; UserModifierTests.Kernels_AskOnlyAboutElementsInsideEachSequence, and −∞ scores in UserModifierTests (Both)",
        [Api.ModifierClassifyTile] = "implemented by users; the default (Partial) and user answers in UserModifierTests.HandWrittenCausal_EqualsTheBuiltInCausal_BitForBit",
        [Api.ModifierKeyRange] = "implemented by users; out-of-range answers are clamped: UserModifierTests.KeyRange_OutsideTheHead_IsClamped",
        [Api.WordPieceLoad] = "a path: null and empty in ModelAdversarialTests; bad files in TokenizerTests.AVocabularyWithoutTheSpecialTokensIsRefused",
    };

    /// <summary>Every bad-call table of the suite.</summary>
    private static IEnumerable<BadCallTable> Tables() =>
    [
        SingleHeadAdversarialTests.Table,
        MultiHeadAdversarialTests.Table,
        PaddedAdversarialTests.Table,
        LayerAdversarialTests.Table,
        KvCacheAdversarialTests.Table,
        PositionalAdversarialTests.Table,
        PrimitivesAdversarialTests.Table,
        TokenizationAdversarialTests.Table,
        RandomAdversarialTests.Table,
        TransformersAdversarialTests.Table,
        ModelAdversarialTests.Table,
        ModifierAdversarialTests.Table,
        PackedAdversarialTests.Table,
        LayerModifierAdversarialTests.Table,
        UserModifierAdversarialTests.Table,
        MultiHeadWeightsAdversarialTests.Table,
    ];

    [Fact]
    public void EveryPublicMember_IsAttackedOrListed()
    {
        var covered = new HashSet<string>(Tables().SelectMany(t => t.Targets()), StringComparer.Ordinal);
        covered.UnionWith(s_noBadInput.Keys);
        string[] missing = PublicMembers().Where(m => !covered.Contains(m)).ToArray();
        Assert.True(missing.Length == 0,
            "public members with no adversarial cases (add a bad-call table entry, or list it in s_noBadInput with its edge test):\n" + string.Join("\n", missing));
    }

    [Fact]
    public void EveryTableEntry_NamesAPublicMember()
    {
        var members = new HashSet<string>(PublicMembers(), StringComparer.Ordinal);
        string[] stale = Tables().SelectMany(t => t.Targets()).Concat(s_noBadInput.Keys).Distinct().Where(t => !members.Contains(t)).ToArray();
        Assert.True(stale.Length == 0, "entries for members that are not public (renamed or removed?):\n" + string.Join("\n", stale));
    }

    [Fact]
    public void TheInventory_SeesTheWholeLibrary()
    {
        // A guard on the reflection itself: it must find the members the suite was written against.
        string[] members = PublicMembers().ToArray();
        Assert.Contains(Api.AttentionCompute, members);
        Assert.Contains(Api.LayerWeights, members);
        Assert.Contains(Api.VocabularyTryGetId, members);
        Assert.Contains(Api.KvCacheCtor, members);
        Assert.Contains(Api.ActivationsGelu, members);
        Assert.DoesNotContain(members, m => m.StartsWith("SelfAttention.IO.", StringComparison.Ordinal));
    }

    [Fact]
    public void TheCorePackage_IsAttentionOnly()
    {
        // The layering of the packages: the core exports attention (namespace SelfAttention) and its oracle
        // (SelfAttention.Reference) and references no package of the transformer layer; the .npy reader and the
        // teaching tokenizer live in SelfAttention.Transformers.
        Assembly core = typeof(Attention).Assembly;
        string[] namespaces = core.GetExportedTypes().Select(t => t.Namespace ?? "").Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["SelfAttention", "SelfAttention.Reference"], namespaces);
        string[] references = core.GetReferencedAssemblies().Select(a => a.Name ?? "").ToArray();
        Assert.DoesNotContain(references, r => r.StartsWith("SelfAttention", StringComparison.Ordinal) || r.Contains("Protobuf", StringComparison.Ordinal)
                                               || r.Contains("Onnx", StringComparison.OrdinalIgnoreCase) || r.Contains("Tokenizer", StringComparison.Ordinal));
        Assembly transformers = typeof(SelfAttention.Transformers.Activations).Assembly;
        Assert.Same(transformers, typeof(SelfAttention.IO.Npy).Assembly);
        Assert.Same(transformers, typeof(SelfAttention.Tokenization.WordTokenizer).Assembly);
    }

    /// <summary>
    /// Public methods and constructors of public types, spelled as in <see cref="Api"/>: property accessors, operators
    /// and compiler-generated record members are data, not entry points; enums have none.
    /// </summary>
    internal static IEnumerable<string> PublicMembers()
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (Type type in typeof(Attention).Assembly.GetExportedTypes().Concat(typeof(SelfAttention.Transformers.Activations).Assembly.GetExportedTypes()))
        {
            if (type.IsEnum || type.Namespace == "SelfAttention.IO" || typeof(Delegate).IsAssignableFrom(type))
            {
                continue;
            }

            foreach (MethodBase member in type.GetMethods(flags).Cast<MethodBase>().Concat(type.GetConstructors(flags)))
            {
                if ((member.IsSpecialName && member is not ConstructorInfo) || member.IsDefined(typeof(CompilerGeneratedAttribute)))
                {
                    continue;
                }

                string parameters = string.Join(", ", member.GetParameters().Select(p => TypeName(p.ParameterType)));
                yield return member is ConstructorInfo ? $"{type.FullName}({parameters})" : $"{type.FullName}.{member.Name}({parameters})";
            }
        }
    }

    private static string TypeName(Type type)
    {
        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!) + "&";
        }

        if (!type.IsGenericType)
        {
            return type.Name;
        }

        string name = type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)];
        return $"{name}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>";
    }
}
