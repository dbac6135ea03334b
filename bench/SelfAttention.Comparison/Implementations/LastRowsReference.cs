using SelfAttention.Reference;

namespace SelfAttention.Comparison.Implementations;

/// <summary>
/// The oracle's output for the last few query rows of every batch at a timed shape, where running the oracle on the
/// whole shape would take seconds. It is exact for causal calls too: the mask is aligned bottom-right, so the last
/// <c>r</c> query rows see the same keys whether they come alone or with the rows above them.
/// </summary>
public sealed class LastRowsReference
{
    private readonly AttentionShape _shape;
    private readonly int _rows;
    private readonly float[] _expected;
    private readonly float[] _actual;

    /// <summary>Runs the oracle on the last <paramref name="rows"/> query rows (all of them if there are fewer) of every batch.</summary>
    public LastRowsReference(AttentionBuffers buffers, AttentionOptions options, int rows)
    {
        _shape = buffers.Shape;
        _rows = Math.Min(rows, _shape.QueryLength);
        var subShape = _shape with { QueryLength = _rows };
        int queryWidth = _shape.Heads * _shape.HeadDim;
        var query = new float[(long)_shape.Batch * _rows * queryWidth];
        for (int b = 0; b < _shape.Batch; b++)
        {
            buffers.Query.AsSpan(RowOffset(b, _shape.QueryLength - _rows, queryWidth), _rows * queryWidth)
                .CopyTo(query.AsSpan(b * _rows * queryWidth));
        }

        _expected = new float[(long)_shape.Batch * _rows * _shape.Heads * _shape.ValueDim];
        _actual = new float[_expected.Length];
        NaiveAttention.ComputeMultiHead(query, buffers.Key, buffers.Value, _expected, subShape, options);
    }

    /// <summary>How many rows per batch are compared.</summary>
    public int Rows => _rows;

    /// <summary>Compares the last rows of <paramref name="output"/> (<c>[Batch, QueryLength, Heads·ValueDim]</c>) with the oracle's.</summary>
    public CheckResult Check(ReadOnlySpan<float> output)
    {
        int outputWidth = _shape.Heads * _shape.ValueDim;
        for (int b = 0; b < _shape.Batch; b++)
        {
            output.Slice(RowOffset(b, _shape.QueryLength - _rows, outputWidth), _rows * outputWidth)
                .CopyTo(_actual.AsSpan(b * _rows * outputWidth));
        }

        return OutputCheck.Compare(_expected, _actual);
    }

    private int RowOffset(int batch, int row, int width) => ((batch * _shape.QueryLength) + row) * width;
}
