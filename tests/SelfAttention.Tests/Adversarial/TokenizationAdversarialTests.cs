using System.Runtime.InteropServices;
using SelfAttention.Tokenization;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to <see cref="EmbeddingTable"/>, <see cref="Vocabulary"/> and <see cref="WordTokenizer"/>: nulls,
/// out-of-range ids and sizes, overflowing tables, destinations that overlap the table or the ids being read, buffers
/// too short for the tokens; outputs untouched. Then the valid edges: empty sequences, the last id, both cases.
/// </summary>
public class TokenizationAdversarialTests
{
    private static readonly Vocabulary s_vocabulary = new(["dream", "big"]);
    private static readonly WordTokenizer s_tokenizer = new();

    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private static BadCall Null(string target, string parameter, Action call) =>
        new() { Target = target, Parameter = parameter, Call = call, ExpectedVersusActual = false, ExceptionType = typeof(ArgumentNullException) };

    private static BadCallTable Build()
    {
        const string arrayLimit = "2147483591";
        var table = new BadCallTable();
        foreach (var (name, parameter, vocabularySize, dim, quotes) in new (string, string, int, int, string[])[]
        {
            ("vocabularySize 0", "vocabularySize", 0, 4, ["1", "0"]),
            ("vocabularySize int.MinValue", "vocabularySize", int.MinValue, 4, ["-2147483648"]),
            ("dim 0", "dim", 4, 0, ["1", "0"]),
            ("dim -1", "dim", 4, -1, ["-1"]),
            ("vocabularySize·dim = 2^32", "vocabularySize", 1 << 16, 1 << 16, [arrayLimit, "4294967296"]),
            ("vocabularySize·dim just past Array.MaxLength", "vocabularySize", int.MaxValue, 1, [arrayLimit, "2147483647"]),
        })
        {
            table.Add($"EmbeddingTable(): {name}", () => new BadCall { Target = Api.EmbeddingCtor, Parameter = parameter, Quotes = quotes, Call = () => _ = new EmbeddingTable(vocabularySize, dim) });
            table.Add($"EmbeddingTable.CreateRandom: {name}", () => new BadCall { Target = Api.EmbeddingCreateRandom, Parameter = parameter, Quotes = quotes, Call = () => EmbeddingTable.CreateRandom(vocabularySize, dim, 7) });
        }

        void Lookup(string name, string parameter, int[] ids, int destination, string[]? quotes = null, Type? type = null) =>
            table.Add($"EmbeddingTable.Lookup: {name}", () =>
            {
                var embeddings = EmbeddingTable.CreateRandom(5, 3, 1);
                float[] before = embeddings.Weights.ToArray(), d = BadCall.Sentinels(destination);
                return new BadCall
                {
                    Target = Api.EmbeddingLookup, Parameter = parameter, Quotes = quotes ?? [], Watched = [d], ExceptionType = type,
                    Call = () => embeddings.Lookup(ids, d), AssertUnchanged = () => Assert.Equal(before, embeddings.Weights.ToArray()),
                };
            });

        Lookup("id -1", "ids", [0, -1], 6, ["ids[1]", "-1", "4"], typeof(ArgumentOutOfRangeException));
        Lookup("id = VocabularySize", "ids", [5], 3, ["ids[0]", "5", "4"], typeof(ArgumentOutOfRangeException));
        Lookup("id int.MaxValue after a good one", "ids", [1, int.MaxValue], 6, ["2147483647"], typeof(ArgumentOutOfRangeException));
        Lookup("destination one short", "destination", [1, 2], 5, ["6", "5"]);
        Lookup("destination for no ids", "destination", [], 1, ["0", "1"]);

        table.Add("EmbeddingTable.Lookup: destination is the table", () =>
        {
            var embeddings = EmbeddingTable.CreateRandom(2, 3, 1);
            float[] before = embeddings.Weights.ToArray();
            return new BadCall
            {
                Target = Api.EmbeddingLookup, Parameter = "destination", Call = () => embeddings.Lookup([1, 0], embeddings.Weights),
                AssertUnchanged = () => Assert.Equal(before, embeddings.Weights.ToArray()),
            };
        });

        // The ids and the destination share memory: writing row 0 would overwrite ids 1 and 2 after they were checked.
        table.Add("EmbeddingTable.Lookup: destination overlaps the ids", () =>
        {
            var embeddings = new EmbeddingTable(200, 2);
            embeddings.Weights.Fill(1000f);
            float[] shared = new float[6];
            Span<int> ids = MemoryMarshal.Cast<float, int>(shared.AsSpan());
            ids[0] = 0; ids[1] = 1; ids[2] = 2;
            int[] idsBefore = ids.ToArray();
            return new BadCall
            {
                Target = Api.EmbeddingLookup, Parameter = "destination",
                Call = () => embeddings.Lookup(MemoryMarshal.Cast<float, int>(shared.AsSpan(0, 3)), shared),
                AssertUnchanged = () => Assert.Equal(idsBefore, MemoryMarshal.Cast<float, int>(shared.AsSpan()).ToArray()),
            };
        });

        table.Add("Vocabulary(): tokens null", () => Null(Api.VocabularyCtor, "tokens", () => _ = new Vocabulary(null!)));
        table.Add("Vocabulary(): unknownToken null", () => Null(Api.VocabularyCtor, "unknownToken", () => _ = new Vocabulary(["a"], null!)));
        table.Add("Vocabulary(): unknownToken empty", () => new BadCall { Target = Api.VocabularyCtor, Parameter = "unknownToken", Call = () => _ = new Vocabulary(["a"], "") });
        table.Add("Vocabulary(): a null token", () => new BadCall { Target = Api.VocabularyCtor, Parameter = "tokens", Quotes = ["tokens[1]"], Call = () => _ = new Vocabulary(["a", null!]) });
        table.Add("Vocabulary(): a duplicate", () => new BadCall { Target = Api.VocabularyCtor, Parameter = "tokens", Quotes = ["tokens[2]", "tokens[0]"], Call = () => _ = new Vocabulary(["a", "b", "a"]) });
        table.Add("Vocabulary.Build: texts null", () => Null(Api.VocabularyBuild, "texts", () => Vocabulary.Build(null!, s_tokenizer)));
        table.Add("Vocabulary.Build: tokenizer null", () => Null(Api.VocabularyBuild, "tokenizer", () => Vocabulary.Build(["a"], null!)));
        table.Add("Vocabulary.Build: a null text", () => new BadCall { Target = Api.VocabularyBuild, Parameter = "texts", Quotes = ["texts[1]"], Call = () => Vocabulary.Build(["a b", null!], s_tokenizer) });
        table.Add("Vocabulary.Build: minCount 0", () => new BadCall { Target = Api.VocabularyBuild, Parameter = "minCount", Quotes = ["1", "0"], Call = () => Vocabulary.Build(["a"], s_tokenizer, 0) });
        table.Add("Vocabulary.Build: minCount int.MinValue", () => new BadCall { Target = Api.VocabularyBuild, Parameter = "minCount", Quotes = ["-2147483648"], Call = () => Vocabulary.Build(["a"], s_tokenizer, int.MinValue) });
        table.Add("Vocabulary.GetId: null", () => Null(Api.VocabularyGetId, "token", () => s_vocabulary.GetId(null!)));
        table.Add("Vocabulary.TryGetId: null", () => Null(Api.VocabularyTryGetId, "token", () => s_vocabulary.TryGetId(null!, out _)));
        foreach (int id in new[] { -1, 3, int.MaxValue, int.MinValue })
        {
            table.Add($"Vocabulary.GetToken: {id}", () => new BadCall
            {
                Target = Api.VocabularyGetToken, Parameter = "id", Quotes = ["2", BadCall.Text(id)], ExceptionType = typeof(ArgumentOutOfRangeException),
                Call = () => s_vocabulary.GetToken(id),
            });
        }

        table.Add("WordTokenizer.Split: null", () => Null(Api.TokenizerSplit, "text", () => s_tokenizer.Split(null!)));
        table.Add("WordTokenizer.Encode: text null", () => Null(Api.TokenizerEncode, "text", () => s_tokenizer.Encode(null!, s_vocabulary)));
        table.Add("WordTokenizer.Encode: vocabulary null", () => Null(Api.TokenizerEncode, "vocabulary", () => s_tokenizer.Encode("a", null!)));
        table.Add("WordTokenizer.Encode(span): text null", () => Null(Api.TokenizerEncodeSpan, "text", () => s_tokenizer.Encode(null!, s_vocabulary, new int[4])));
        table.Add("WordTokenizer.Encode(span): vocabulary null", () => Null(Api.TokenizerEncodeSpan, "vocabulary", () => s_tokenizer.Encode("a", null!, new int[4])));
        table.Add("WordTokenizer.Encode(span): ids one short", () =>
        {
            int[] ids = [-7, -7];
            return new BadCall
            {
                Target = Api.TokenizerEncodeSpan, Parameter = "ids", Quotes = ["3", "2"],
                Call = () => s_tokenizer.Encode("Dream big!", s_vocabulary, ids),
                AssertUnchanged = () => Assert.Equal([-7, -7], ids),
            };
        });
        table.Add("WordTokenizer.Encode(span): ids empty", () => new BadCall
        {
            Target = Api.TokenizerEncodeSpan, Parameter = "ids", Quotes = ["1", "0"], Call = () => s_tokenizer.Encode("x", s_vocabulary, []),
        });
        return table;
    }

    [Fact]
    public void EmptySequences_AndTheLastId_AreValid()
    {
        var embeddings = EmbeddingTable.CreateRandom(5, 3, 1);
        embeddings.Lookup([], []);
        float[] d = new float[3];
        embeddings.Lookup([4], d);
        Assert.Equal(embeddings.Weights[12..].ToArray(), d);
        Assert.Equal("big", s_vocabulary.GetToken(s_vocabulary.Count - 1));
        Assert.Equal(s_vocabulary.UnknownId, s_vocabulary.GetId(""));
        Assert.Empty(s_tokenizer.Split(""));
        Assert.Equal(0, s_tokenizer.Encode(" \t\n", s_vocabulary, []));
        Assert.Equal(Vocabulary.DefaultUnknownToken, Vocabulary.Build([], s_tokenizer).GetToken(0));
    }

    [Fact]
    public void Tokenizer_EitherCase()
    {
        Assert.Equal(["dream", "big", "!"], new WordTokenizer(lowercase: true).Split("Dream BIG!"));
        Assert.Equal(["Dream", "BIG", "!"], new WordTokenizer(lowercase: false).Split("Dream BIG!"));
        // A token longer than the stack buffer goes through a pooled one.
        string longWord = new('A', 1000);
        var vocabulary = new Vocabulary([new string('a', 1000)]);
        Assert.Equal([1], new WordTokenizer().Encode(longWord, vocabulary));
    }
}
