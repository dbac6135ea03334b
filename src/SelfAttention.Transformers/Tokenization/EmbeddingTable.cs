using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using SelfAttention.Internal;

namespace SelfAttention.Tokenization;

/// <summary>
/// A token embedding table: row <c>id</c> of <see cref="Weights"/> is the <see cref="Dim"/>-wide vector of token
/// <c>id</c>. <see cref="Lookup"/> gathers the rows of a sequence of ids into a <c>[ids.Length, Dim]</c> buffer, the
/// input of positional encoding and attention. Load trained embeddings by copying them into <see cref="Weights"/>.
/// Not thread-safe while the weights are being written; concurrent lookups are fine.
/// </summary>
public sealed class EmbeddingTable
{
    private readonly float[] _weights;

    /// <summary>Creates a table of zeros.</summary>
    /// <param name="vocabularySize">Rows, one per token id; at least 1.</param>
    /// <param name="dim">Columns, the embedding width; at least 1.</param>
    /// <exception cref="ArgumentException">A size is less than 1, or <c>vocabularySize · dim</c> exceeds <see cref="Array.MaxLength"/>.</exception>
    public EmbeddingTable(int vocabularySize, int dim)
    {
        if (vocabularySize < 1) ThrowHelper.ThrowNotPositive(nameof(vocabularySize), "vocabularySize", vocabularySize);
        if (dim < 1) ThrowHelper.ThrowNotPositive(nameof(dim), "dim", dim);
        long length = AttentionValidation.Product(nameof(vocabularySize), "the table (vocabularySize·dim)", LayerValidation.MaxArrayLength, vocabularySize, dim);
        _weights = new float[length];
        VocabularySize = vocabularySize;
        Dim = dim;
    }

    /// <summary>
    /// A table of values uniform in <c>[−1, 1)</c> drawn in row-major order from <see cref="DeterministicRandom"/>
    /// seeded with <paramref name="seed"/>: the same seed gives bit-identical weights on every machine (each value is
    /// <c>−1 + 2u</c> with <c>u</c> a multiple of 2⁻²⁴, exact in float). Uniform rather than PyTorch's N(0, 1)
    /// (<c>nn.Embedding</c>) because a Box–Muller transform goes through <see cref="Math.Log(double)"/> and
    /// <see cref="Math.Cos"/>, whose last bit may differ between platforms. The variance is 1/3.
    /// </summary>
    /// <param name="vocabularySize">Rows, one per token id; at least 1.</param>
    /// <param name="dim">Columns, the embedding width; at least 1.</param>
    /// <param name="seed">Fixes every value.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ArgumentException">A size is less than 1, or <c>vocabularySize · dim</c> overflows an int.</exception>
    public static EmbeddingTable CreateRandom(int vocabularySize, int dim, ulong seed)
    {
        var table = new EmbeddingTable(vocabularySize, dim);
        new DeterministicRandom(seed).Fill(table._weights, -1f, 1f);
        return table;
    }

    /// <summary>The weights, row-major <c>[VocabularySize, Dim]</c>; writable, so trained embeddings can be copied in.</summary>
    public Span<float> Weights => _weights;

    /// <summary>Rows: the number of token ids the table covers.</summary>
    public int VocabularySize { get; }

    /// <summary>Columns: the embedding width.</summary>
    public int Dim { get; }

    /// <summary>
    /// Copies row <c>ids[t]</c> of the table to row <c>t</c> of <paramref name="destination"/> for every <c>t</c>.
    /// Every id is checked before anything is written. Allocation-free.
    /// </summary>
    /// <param name="ids">Token ids, each in <c>[0, VocabularySize)</c>.</param>
    /// <param name="destination">Receives the embeddings, row-major <c>[ids.Length, Dim]</c>; exactly <c>ids.Length · Dim</c> floats, overlapping neither <paramref name="ids"/> nor <see cref="Weights"/>.</param>
    /// <exception cref="ArgumentException">An id is out of range (<see cref="ArgumentOutOfRangeException"/> naming <paramref name="ids"/>), <paramref name="destination"/> is not exactly <c>ids.Length · Dim</c> long, or it overlaps the ids or the table. Nothing is written.</exception>
    public void Lookup(ReadOnlySpan<int> ids, Span<float> destination)
    {
        long expected = (long)ids.Length * Dim;
        if (destination.Length != expected)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(destination), "destination length (ids.Length·Dim)", expected, destination.Length);
        }

        // Writing a row into memory that holds ids yet to be read would change them after they were checked.
        AttentionValidation.CheckNoOverlap<float, int>(destination, ids, nameof(destination), nameof(ids));
        AttentionValidation.CheckNoOverlap(destination, _weights, nameof(destination), nameof(Weights));

        for (int t = 0; t < ids.Length; t++)
        {
            if ((uint)ids[t] >= (uint)VocabularySize)
            {
                ThrowBadId(t, ids[t], VocabularySize);
            }
        }

        int dim = Dim;
        ReadOnlySpan<float> weights = _weights;
        for (int t = 0; t < ids.Length; t++)
        {
            weights.Slice(ids[t] * dim, dim).CopyTo(destination.Slice(t * dim, dim));
        }
    }

    [DoesNotReturn]
    private static void ThrowBadId(int index, int id, int vocabularySize) =>
        throw new ArgumentOutOfRangeException("ids", id,
            string.Create(CultureInfo.InvariantCulture, $"ids[{index}]: expected a token id from 0 to {vocabularySize - 1}, actual {id}."));
}
