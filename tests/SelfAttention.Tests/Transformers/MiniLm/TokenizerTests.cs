using SelfAttention.Transformers;
using Xunit;

namespace SelfAttention.Tests.Transformers.MiniLm;

/// <summary>
/// <see cref="BertWordPieceTokenizer"/> on the model's own vocab.txt (bert-base-uncased's, which all-MiniLM-L6-v2
/// shares) against known ids: "Hello world!" and "This is a test." as Hugging Face's <c>BertTokenizer</c> encodes them
/// in its widely published examples, and for the rest the BERT rules worked by hand against vocab.txt's lines (line
/// number = id): "unaffable" → una ##ffa ##ble (greedy longest match), punctuation split off, case and accents
/// removed, runs of spaces and tabs as one break, CJK characters one token each, a word with a piece outside the
/// vocabulary as one [UNK].
/// </summary>
[Collection(MiniLmCollection.Name)]
public class TokenizerTests(MiniLmModel model)
{
    public static TheoryData<string, int[]> Known => new()
    {
        { "Hello world!", [101, 7592, 2088, 999, 102] },
        { "This is a test.", [101, 2023, 2003, 1037, 3231, 1012, 102] },
        { "The cat sat on the mat.", [101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102] },
        { "unaffable", [101, 14477, 20961, 3468, 102] },
        { "HÉLLO   World", [101, 7592, 2088, 102] },
        { "", [101, 102] },
        { "日本語", [101, 1864, 1876, 1950, 102] },
        { "a😀b", [101, 100, 102] },
    };

    [Theory]
    [MemberData(nameof(Known))]
    public void IdsAreHuggingFacesIds(string text, int[] expected)
    {
        var ids = new int[64];
        int n = model.Tokenizer.Encode(text, ids);
        Assert.Equal(expected, ids[..n]);
    }

    [Fact]
    public void TokensAreTheVocabularysSpellings()
    {
        Assert.Equal(["[CLS]", "una", "##ffa", "##ble", "[SEP]"], model.Tokenizer.Tokenize("unaffable"));
        Assert.Equal("[PAD]", model.Tokenizer.TokenOf(model.Tokenizer.PadId));
        Assert.Equal(101, model.Tokenizer.ClsId);
        Assert.Equal(102, model.Tokenizer.SepId);
        Assert.Equal(100, model.Tokenizer.UnknownId);
        Assert.Equal(30522, model.Tokenizer.VocabularySize);
    }

    [Fact]
    public void LongTextIsTruncatedKeepingTheFraming()
    {
        var ids = new int[6];
        int n = model.Tokenizer.Encode("one two three four five six seven", ids);
        Assert.Equal(6, n);
        Assert.Equal([101, 2028, 2048, 2093, 2176, 102], ids);
    }

    [Fact]
    public void BadArgumentsNameTheParameter()
    {
        Assert.Equal("ids", Assert.ThrowsAny<ArgumentException>(() => model.Tokenizer.Encode("a", new int[1])).ParamName);
        Assert.Equal("text", Assert.ThrowsAny<ArgumentException>(() => model.Tokenizer.Encode(null!, new int[4])).ParamName);
        Assert.Equal("id", Assert.ThrowsAny<ArgumentException>(() => model.Tokenizer.TokenOf(30522)).ParamName);
        Assert.Equal("maxTokens", Assert.ThrowsAny<ArgumentException>(() => model.Tokenizer.Tokenize("a", 1)).ParamName);
    }

    [Fact]
    public void AVocabularyWithoutTheSpecialTokensIsRefused()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vocab-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllLines(path, ["[PAD]", "hello", "world"]);
            var e = Assert.Throws<ModelFormatException>(() => BertWordPieceTokenizer.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("[UNK]", e.Message);
            Assert.Throws<FileNotFoundException>(() => BertWordPieceTokenizer.Load(path + ".missing"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
