namespace SelfAttention.Tests.IO;

/// <summary>
/// A forward-only stream over bytes that hands out at most <c>maxRead</c> bytes per read: no Length, no seeking, and
/// short reads, like a pipe or a network stream. Counts what was consumed, to check a reader stops where it should.
/// </summary>
internal sealed class TrickleStream(byte[] bytes, int maxRead = 7) : Stream
{
    private int _position;

    public int Consumed => _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int count = Math.Min(Math.Min(buffer.Length, maxRead), bytes.Length - _position);
        bytes.AsSpan(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
