using SelfAttention.Cli.CommandLine;
using SelfAttention.IO;

namespace SelfAttention.Cli.Arrays;

/// <summary>
/// Query, key and value arrays read from .npy files and checked against each other: all of rank 2
/// (<c>[seq, heads·dim]</c>) or all of rank 3 (<c>[batch, seq, heads·dim]</c>), the same batch, keys and values with
/// the same length, widths that split into the given heads. Every mismatch is a <see cref="UsageException"/> that
/// names the file and says what was expected and what was found.
/// </summary>
internal sealed class ArrayInputs
{
    private ArrayInputs(NpyArray query, NpyArray key, NpyArray value, AttentionShape shape, bool batched)
    {
        Query = query;
        Key = key;
        Value = value;
        Shape = shape;
        Batched = batched;
    }

    public NpyArray Query { get; }

    public NpyArray Key { get; }

    public NpyArray Value { get; }

    /// <summary>The multi-head shape the arrays describe.</summary>
    public AttentionShape Shape { get; }

    /// <summary>True when the inputs had a batch dimension (rank 3); outputs then keep it.</summary>
    public bool Batched { get; }

    /// <summary>The output's .npy shape: <c>[batch?, QueryLength, Heads·ValueDim]</c>.</summary>
    public int[] OutputShape => Batched
        ? [Shape.Batch, Shape.QueryLength, Shape.Heads * Shape.ValueDim]
        : [Shape.QueryLength, Shape.Heads * Shape.ValueDim];

    /// <summary>The weights' .npy shape: <c>[batch?, Heads, QueryLength, KeyLength]</c>.</summary>
    public int[] WeightsShape => Batched
        ? [Shape.Batch, Shape.Heads, Shape.QueryLength, Shape.KeyLength]
        : [Shape.Heads, Shape.QueryLength, Shape.KeyLength];

    /// <summary>
    /// Reads and checks the three files. <paramref name="value"/> may be null: the keys then serve as values (for
    /// weights only). The output must fit one .NET array, and so must the weights when <paramref name="withWeights"/>.
    /// </summary>
    public static ArrayInputs Read(string command, string query, string key, string? value, int heads, int? kvHeads, bool withWeights)
    {
        NpyArray q = ReadFile(command, "--query", query);
        NpyArray k = ReadFile(command, "--key", key);
        NpyArray v = value is null ? k : ReadFile(command, "--value", value);
        int groups = kvHeads ?? heads;
        if (heads % groups != 0)
        {
            throw new UsageException($"{command}: --heads {heads} is not a multiple of --kv-heads {groups}.");
        }

        int rank = q.Shape.Count;
        if (rank is not (2 or 3))
        {
            throw new UsageException($"{command}: {CliText.Echo(query)}: expected a 2-D [seq, heads·dim] or 3-D [batch, seq, heads·dim] array, got shape {Npy.FormatShape(q.Shape.ToArray())}.");
        }

        foreach (var (file, array) in new[] { (key, k), (value ?? key, v) })
        {
            if (array.Shape.Count != rank)
            {
                throw new UsageException($"{command}: {CliText.Echo(file)}: expected a {rank}-D array like the query, got shape {Npy.FormatShape(array.Shape.ToArray())}.");
            }
        }

        int batch = rank == 3 ? q.Shape[0] : 1;
        int queryLength = q.Shape[rank - 2], keyLength = k.Shape[rank - 2];
        int queryWidth = q.Shape[rank - 1], keyWidth = k.Shape[rank - 1], valueWidth = v.Shape[rank - 1];
        if (queryWidth % heads != 0 || queryWidth == 0)
        {
            throw new UsageException($"{command}: {CliText.Echo(query)}: the last dimension ({queryWidth}) must be a positive multiple of --heads {heads}.");
        }

        int headDim = queryWidth / heads;
        if (rank == 3 && (k.Shape[0] != batch || v.Shape[0] != batch))
        {
            string file = k.Shape[0] != batch ? key : value ?? key;
            int found = k.Shape[0] != batch ? k.Shape[0] : v.Shape[0];
            throw new UsageException($"{command}: {CliText.Echo(file)}: expected batch {batch} like the query, got {found}.");
        }

        if (keyWidth != groups * headDim)
        {
            throw new UsageException($"{command}: {CliText.Echo(key)}: expected last dimension {groups * headDim} (kv-heads {groups} × head dim {headDim} from the query), got {keyWidth}.");
        }

        if (v.Shape[rank - 2] != keyLength)
        {
            throw new UsageException($"{command}: {CliText.Echo(value ?? key)}: expected {keyLength} rows like the key, got {v.Shape[rank - 2]}.");
        }

        if (valueWidth % groups != 0 || valueWidth == 0)
        {
            throw new UsageException($"{command}: {CliText.Echo(value ?? key)}: the last dimension ({valueWidth}) must be a positive multiple of kv-heads {groups}.");
        }

        var shape = new AttentionShape(batch, queryLength, keyLength, heads, headDim) { KvHeads = groups, ValueDim = valueWidth / groups };

        // In Int128: four int factors can overflow long.
        Int128 outputs = (Int128)batch * queryLength * heads * shape.ValueDim;
        if (outputs > Array.MaxLength)
        {
            throw new UsageException($"{command}: the output would hold {outputs} values ({batch} × {queryLength} queries × {heads} heads × value dim {shape.ValueDim}): more than the largest array .NET can hold ({Array.MaxLength}).");
        }

        Int128 weights = (Int128)batch * heads * queryLength * keyLength;
        if (withWeights && weights > Array.MaxLength)
        {
            throw new UsageException($"{command}: the weights would hold {weights} values ({batch} × {heads} heads × {queryLength} queries × {keyLength} keys): more than the largest array .NET can hold ({Array.MaxLength}).");
        }

        return new ArrayInputs(q, k, v, shape, rank == 3);
    }

    // The file is opened here rather than by Npy.ReadFile so that every message names the path as the user gave it,
    // escaped and shortened, and a file that cannot be read is a bad input (exit 2) like a malformed one.
    private static NpyArray ReadFile(string command, string option, string path)
    {
        if (!File.Exists(path))
        {
            throw new UsageException(Directory.Exists(path)
                ? $"{command}: {option}: {CliText.Echo(path)} is a folder, not a .npy file."
                : $"{command}: {option}: no such file: {CliText.Echo(path)}");
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 4096, FileOptions.SequentialScan);
            return Npy.Read(stream);
        }
        catch (NpyFormatException e)
        {
            throw new UsageException($"{command}: {CliText.Echo(path)}: {e.Message}");
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"{command}: {option}: {CliText.Echo(path)}: permission denied.");
        }
        catch (IOException e)
        {
            throw new UsageException($"{command}: {option}: {CliText.Echo(path)}: cannot be read: {e.Message}");
        }
    }
}
