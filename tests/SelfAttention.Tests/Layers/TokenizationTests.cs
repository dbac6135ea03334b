using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SelfAttention.Tests.Helpers;
using SelfAttention.Tests.Validation;
using SelfAttention.Tokenization;
using Xunit;

namespace SelfAttention.Tests.Layers;

/// <summary><see cref="WordTokenizer"/>, <see cref="Vocabulary"/> and <see cref="EmbeddingTable"/>.</summary>
public class TokenizationTests
{
    private static readonly WordTokenizer s_tokenizer = new();

    [Theory]
    [InlineData("I love bears", new[] { "i", "love", "bears" })]
    [InlineData("Dream big, and work for it!", new[] { "dream", "big", ",", "and", "work", "for", "it", "!" })]
    [InlineData("  spaces\tand\nnew lines  ", new[] { "spaces", "and", "new", "lines" })]
    [InlineData("Don't stop: 3.14 is π…", new[] { "don't", "stop", ":", "3", ".", "14", "is", "π", "…" })]
    [InlineData("bear’s \"honey\"(2)", new[] { "bear’s", "\"", "honey", "\"", "(", "2", ")" })]
    [InlineData("hi 🐻!", new[] { "hi", "🐻", "!" })]                // a surrogate pair is one character
    [InlineData("Cafe\u0301 CAFÉ", new[] { "cafe\u0301", "café" })]  // a combining accent stays in its word
    [InlineData("--", new[] { "-", "-" })]
    [InlineData("", new string[0])]
    [InlineData(" \t\n", new string[0])]
    public void Split_Examples(string text, string[] expected) => Assert.Equal(expected, s_tokenizer.Split(text));

    [Fact]
    public void Split_KeepsCaseWhenAsked()
    {
        var tokenizer = new WordTokenizer(lowercase: false);
        Assert.False(tokenizer.Lowercase);
        Assert.Equal(["Dream", "BIG", ",", "Bears", "!"], tokenizer.Split("Dream BIG, Bears!"));
        Assert.True(s_tokenizer.Lowercase);
        Assert.Equal(["dream", "big", ",", "bears", "!"], s_tokenizer.Split("Dream BIG, Bears!"));
    }

    /// <summary>Without lowercasing, tokens are exactly the text's non-whitespace characters, in order, none containing whitespace.</summary>
    [Property(MaxTest = 300)]
    public Property Property_SplitPartitionsTheNonWhitespaceCharacters()
    {
        string[] pieces = ["a", "Z", "é", "7", "'", "’", " ", "  ", "\t", "\n", ",", ".", "!", "-", "🐻", "\u0301", "\ud800", "ß", "İ", "word"];
        var arbitrary = Gen.Elements(pieces).ArrayOf().Select(parts => string.Concat(parts)).ToArbitrary();
        var keepCase = new WordTokenizer(lowercase: false);
        return Prop.ForAll(arbitrary, text =>
        {
            IReadOnlyList<string> tokens = keepCase.Split(text);
            Assert.All(tokens, token => Assert.True(token.Length > 0 && !token.Any(char.IsWhiteSpace), $"\"{text}\": token \"{token}\" is empty or holds whitespace."));
            Assert.Equal(new string(text.Where(c => !char.IsWhiteSpace(c)).ToArray()), string.Concat(tokens));
            Assert.Equal(tokens.Select(t => t.ToLowerInvariant()), s_tokenizer.Split(text));
        });
    }

    [Fact]
    public void Vocabulary_AddsUnknownTokenAsIdZero()
    {
        var vocabulary = new Vocabulary(["i", "love", "bears"]);
        Assert.Equal(4, vocabulary.Count);
        Assert.Equal(0, vocabulary.UnknownId);
        Assert.Equal("[UNK]", vocabulary.UnknownToken);
        Assert.Equal("[UNK]", vocabulary.GetToken(0));
        Assert.Equal(1, vocabulary.GetId("i"));
        Assert.Equal(3, vocabulary.GetId("bears"));
        Assert.Equal("love", vocabulary.GetToken(2));
        Assert.Equal(vocabulary.UnknownId, vocabulary.GetId("honey"));
        Assert.Equal(vocabulary.UnknownId, vocabulary.GetId("Bears")); // ordinal: case matters here
        Assert.True(vocabulary.TryGetId("love", out int id) && id == 2);
        Assert.False(vocabulary.TryGetId("honey", out id));
        Assert.Equal(vocabulary.UnknownId, id);
    }

    [Fact]
    public void Vocabulary_KeepsAListedUnknownTokenWhereItIs()
    {
        var vocabulary = new Vocabulary(["<pad>", "bears", "<unk>", "honey"], unknownToken: "<unk>");
        Assert.Equal(4, vocabulary.Count);
        Assert.Equal(2, vocabulary.UnknownId);
        Assert.Equal(2, vocabulary.GetId("salmon"));
        Assert.Equal(1, vocabulary.GetId("bears"));
        Assert.True(vocabulary.TryGetId("<unk>", out int id) && id == 2);
    }

    [Fact]
    public void Vocabulary_RejectsBadTokenLists()
    {
        ContractAssert.Throws(() => new Vocabulary(["a", "b", "a"]), "tokens", "duplicate");
        ContractAssert.Throws(() => new Vocabulary(["a", "[UNK]", "[UNK]"]), "tokens", "duplicate unknown token");
        ContractAssert.Throws(() => new Vocabulary(["a", null!]), "tokens", "null token");
        ContractAssert.Throws(() => new Vocabulary(["a"], ""), "unknownToken", "empty unknown token");
        Assert.Throws<ArgumentNullException>("tokens", () => new Vocabulary(null!));
        Assert.Throws<ArgumentNullException>("unknownToken", () => new Vocabulary(["a"], null!));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4)]
    [InlineData(int.MinValue)]
    public void Vocabulary_GetToken_RangeChecked(int id)
    {
        var vocabulary = new Vocabulary(["i", "love", "bears"]);
        ContractAssert.Throws(() => vocabulary.GetToken(id), "id", $"GetToken({id})");
    }

    [Fact]
    public void Vocabulary_Build_OrdersByFirstAppearanceAndIsDeterministic()
    {
        string[] corpus = ["I love bears.", "Bears love honey!", "I love honey, bears love salmon."];
        var vocabulary = Vocabulary.Build(corpus, s_tokenizer);
        string[] expected = ["[UNK]", "i", "love", "bears", ".", "honey", "!", ",", "salmon"];
        Assert.Equal(expected, Enumerable.Range(0, vocabulary.Count).Select(vocabulary.GetToken));

        for (int repeat = 0; repeat < 3; repeat++)
        {
            var again = Vocabulary.Build(corpus.ToList(), new WordTokenizer());
            Assert.Equal(expected, Enumerable.Range(0, again.Count).Select(again.GetToken));
        }

        // minCount 2: "!", "," and "salmon" occur once and are dropped; the rest keep their first-appearance order.
        var frequent = Vocabulary.Build(corpus, s_tokenizer, minCount: 2);
        Assert.Equal(["[UNK]", "i", "love", "bears", ".", "honey"], Enumerable.Range(0, frequent.Count).Select(frequent.GetToken));
        Assert.Equal(frequent.UnknownId, frequent.GetId("salmon"));

        ContractAssert.Throws(() => Vocabulary.Build(corpus, s_tokenizer, minCount: 0), "minCount", "minCount 0");
        ContractAssert.Throws(() => Vocabulary.Build(["a", null!], s_tokenizer), "texts", "null text");
    }

    [Fact]
    public void Encode_MapsUnknownWordsToUnknownId()
    {
        var vocabulary = Vocabulary.Build(["I love bears"], s_tokenizer);
        Assert.Equal([1, 2, 3], s_tokenizer.Encode("I love bears", vocabulary));
        Assert.Equal([1, 2, 0, 0], s_tokenizer.Encode("i LOVE honey!", vocabulary));
        Assert.Empty(s_tokenizer.Encode("   ", vocabulary));

        // Without lowercasing, "LOVE" is a different token from "love".
        var keepCase = new WordTokenizer(lowercase: false);
        Assert.Equal([0, 0, 3], keepCase.Encode("I LOVE bears", vocabulary));
    }

    [Fact]
    public void Encode_Span_WritesTheCountAndThrowsBeforeWritingWhenTooShort()
    {
        var vocabulary = Vocabulary.Build(["I love bears"], s_tokenizer);
        var ids = new int[6];
        Array.Fill(ids, -7);
        Assert.Equal(4, s_tokenizer.Encode("bears love bears?", vocabulary, ids));
        Assert.Equal([3, 2, 3, 0, -7, -7], ids);

        var tooShort = new int[3];
        Array.Fill(tooShort, -7);
        var e = ContractAssert.Throws(() => s_tokenizer.Encode("bears love bears?", vocabulary, tooShort), "ids", "Encode into 3 ids");
        Assert.Contains("expected at least 4", e.Message);
        Assert.All(tooShort, id => Assert.Equal(-7, id));
    }

    [Fact]
    public void Encode_LongWordsAreLowercasedToo()
    {
        string word = new('b', 300);
        var vocabulary = new Vocabulary([word]);
        Assert.Equal([1, 1, 0], s_tokenizer.Encode(word + " " + word.ToUpperInvariant() + " b", vocabulary));
    }

    [Property(MaxTest = 200)]
    public Property Property_EncodeEqualsSplitThenGetId()
    {
        var vocabulary = Vocabulary.Build(["a b ab ba, 7! é 🐻"], s_tokenizer);
        string[] pieces = ["a", "B", "b", "é", "É", "7", " ", ",", "!", "🐻", "'", "x"];
        var arbitrary = Gen.Elements(pieces).ArrayOf().Select(parts => string.Concat(parts)).ToArbitrary();
        return Prop.ForAll(arbitrary, text =>
        {
            Assert.Equal(s_tokenizer.Split(text).Select(vocabulary.GetId), s_tokenizer.Encode(text, vocabulary));
        });
    }

    [Fact]
    public void EmbeddingTable_Lookup_CopiesTheRows()
    {
        var table = new EmbeddingTable(vocabularySize: 5, dim: 3);
        Assert.Equal(5, table.VocabularySize);
        Assert.Equal(3, table.Dim);
        Assert.Equal(15, table.Weights.Length);
        Assert.All(table.Weights.ToArray(), w => Assert.Equal(0f, w));
        for (int index = 0; index < 15; index++)
        {
            table.Weights[index] = index;
        }

        int[] ids = [2, 0, 2, 4];
        var destination = new GuardedBuffer(ids.Length * 3);
        table.Lookup(ids, destination.Span);
        destination.AssertGuardsIntact("Lookup");
        Assert.Equal([6f, 7f, 8f, 0f, 1f, 2f, 6f, 7f, 8f, 12f, 13f, 14f], destination.ToArray());

        table.Lookup([], Span<float>.Empty);
    }

    [Fact]
    public void EmbeddingTable_CreateRandom_IsFixedByTheSeed()
    {
        var a = EmbeddingTable.CreateRandom(50, 16, seed: 42);
        var b = EmbeddingTable.CreateRandom(50, 16, seed: 42);
        var c = EmbeddingTable.CreateRandom(50, 16, seed: 43);
        Assert.True(a.Weights.SequenceEqual(b.Weights), "the same seed must give the same table");
        Assert.False(a.Weights.SequenceEqual(c.Weights), "another seed must give another table");
        float[] values = a.Weights.ToArray();
        Assert.All(values, w => Assert.InRange(w, -1f, 0.99999994f));
        Assert.True(values.Min() < -0.95f && values.Max() > 0.95f, "800 uniform draws should come near both ends of [−1, 1)");

        // Pinned: the first values are −1 + 2u with u the DeterministicRandom(42) floats pinned in DeterministicRandomTests.
        Assert.Equal(-1f + 2f * 0.08386296033859253f, a.Weights[0]);
        Assert.Equal(-1f + 2f * 0.37898021936416626f, a.Weights[1]);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(5)]
    [InlineData(int.MaxValue)]
    public void EmbeddingTable_Lookup_BadIdThrowsBeforeWriting(int badId)
    {
        var table = EmbeddingTable.CreateRandom(5, 4, seed: 1);
        const float sentinel = 99f;
        int[] ids = [1, 2, badId, 3];
        var destination = new float[ids.Length * 4];
        Array.Fill(destination, sentinel);
        var e = ContractAssert.Throws(() => table.Lookup(ids, destination), "ids", $"Lookup with id {badId}");
        Assert.Contains("ids[2]", e.Message);
        ContractAssert.Untouched([destination], sentinel, $"Lookup with id {badId}");
    }

    [Fact]
    public void EmbeddingTable_BadSizesThrow()
    {
        var table = new EmbeddingTable(5, 4);
        const float sentinel = 99f;
        foreach (int length in new[] { 7, 9, 0 })
        {
            var destination = new float[length];
            Array.Fill(destination, sentinel);
            ContractAssert.Throws(() => table.Lookup([1, 2], destination), "destination", $"destination length {length}");
            ContractAssert.Untouched([destination], sentinel, $"destination length {length}");
        }

        float[] weights = table.Weights.ToArray();
        ContractAssert.Throws(() => table.Lookup([1], table.Weights.Slice(0, 4)), "destination", "destination inside the table");
        ContractAssert.Throws(() => new EmbeddingTable(0, 4), "vocabularySize", "vocabularySize 0");
        ContractAssert.Throws(() => new EmbeddingTable(4, -1), "dim", "dim -1");
        ContractAssert.Throws(() => new EmbeddingTable(65536, 65536), "vocabularySize", "overflow");
    }
}
