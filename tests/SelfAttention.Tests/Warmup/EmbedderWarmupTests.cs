using System.Runtime;
using SelfAttention.Tests.Allocation;
using SelfAttention.Transformers;
using Xunit;

namespace SelfAttention.Tests.Warmup;

/// <summary>
/// <see cref="SentenceEmbedder.WarmUp"/> on the real all-MiniLM-L6-v2, in a fresh process: after it, a batch of new
/// sentences of other lengths compiles next to nothing (the test's own code has run once first, on a one-word
/// sentence); without any of that, the same batch compiles dozens of methods (which shows the count can tell, at every
/// width). Counts from <see cref="JitInfo.GetCompiledMethodCount"/>, process-wide. Warming changes no result.
/// </summary>
[Collection(AllocationCollection.Name)]
public class EmbedderWarmupTests
{
    private const long MostAfterWarmup = 8;
    private const long LeastWithoutWarmup = 20;

    [Fact]
    public void AfterTheWarmUp_NewSentencesCompileNextToNothing() =>
        AllocationProcess.Run<EmbedderWarmupTests>(nameof(CompiledByTheBatch), "warm");

    [Fact]
    public void WithoutTheWarmUp_TheSameSentencesCompileMany() =>
        AllocationProcess.Run<EmbedderWarmupTests>(nameof(CompiledByTheBatch), "cold");

    private static void CompiledByTheBatch(string mode)
    {
        SentenceEmbedder embedder = SentenceEmbedder.Load(Transformers.MiniLm.MiniLmModel.Folder);
        if (mode == "warm")
        {
            float[] before = embedder.Embed("x");
            embedder.WarmUp();
            embedder.WarmUp();
            Assert.Equal(before, embedder.Embed("x"));
        }

        string[] sentences = ["A man is playing a guitar on the street while people walk past and listen.", "Hi", "Self-attention, step by step."];
        var embeddings = new float[sentences.Length * embedder.Dimension];
        long start = JitInfo.GetCompiledMethodCount(currentThread: false);
        embedder.Embed(sentences, embeddings);
        long compiled = JitInfo.GetCompiledMethodCount(currentThread: false) - start;
        if (mode == "warm")
        {
            Assert.True(compiled <= MostAfterWarmup, $"after WarmUp, a new batch compiled {compiled} methods (at most {MostAfterWarmup} expected).");
        }
        else
        {
            Assert.True(compiled >= LeastWithoutWarmup, $"without the warm-up, the batch compiled only {compiled} methods: the count cannot tell (at least {LeastWithoutWarmup} expected).");
        }
    }
}
