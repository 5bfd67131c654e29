using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// One side of an upgraded stream for <see cref="TcpRelay"/>: a duplex stream, Kestrel's upgraded client stream or the
/// response stream of the backend's 101 (or 200 to an extended CONNECT).
/// </summary>
/// <remarks>
/// How a half-close is passed on depends on what the transport can do, so the owner says it: an action (Kestrel ends an
/// HTTP/2 stream with <c>END_STREAM</c>), nothing (SocketsHttpHandler's upgraded streams have no half-close), or
/// <see cref="EndOnShutdown"/> for an upgraded HTTP/1.1 client connection, which Kestrel cannot half-close either.
/// </remarks>
internal sealed class UpgradedStreamRelayEnd : RelayEnd
{
    private readonly Stream _stream;
    private readonly Action _shutdownWrite;
    private readonly Action _abort;
    private readonly CancellationTokenSource? _ended;

    private UpgradedStreamRelayEnd(Stream stream, Action? shutdownWrite, Action abort, bool endOnShutdown)
    {
        _stream = stream;
        _abort = abort;
        if (endOnShutdown)
        {
            _ended = new CancellationTokenSource();
            _shutdownWrite = _ended.Cancel;
        }
        else
        {
            _shutdownWrite = shutdownWrite ?? (static () => { });
        }
    }

    /// <summary>An end whose half-close is <paramref name="shutdownWrite"/> (null: the transport cannot half-close; ignored).</summary>
    public static UpgradedStreamRelayEnd Create(Stream stream, Action? shutdownWrite, Action abort) =>
        new(stream, shutdownWrite, abort, endOnShutdown: false);

    /// <summary>
    /// An end that cannot half-close and so stops reading when asked to: the relay then sees end of stream from it and
    /// finishes, and its owner closes it gracefully once everything written was flushed. For an upgrade whose other
    /// side cannot take a half-close either, so one side's end ends the upgrade.
    /// </summary>
    public static UpgradedStreamRelayEnd EndOnShutdown(Stream stream, Action abort) =>
        new(stream, shutdownWrite: null, abort, endOnShutdown: true);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_ended is null)
        {
            return await _stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        if (_ended.IsCancellationRequested)
        {
            return 0;
        }
        try
        {
            // Only this end's token (no linked source per read): the relay's abort also aborts the stream's owner, which
            // fails the pending read.
            return await _stream.ReadAsync(buffer, _ended.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_ended.IsCancellationRequested)
        {
            return 0;
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        // HTTP/2 request and response streams buffer until flushed; upgraded bytes are interactive.
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void ShutdownWrite() => _shutdownWrite();

    public override void Abort() => _abort();

    public override async ValueTask DisposeAsync()
    {
        _ended?.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
