using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Upgrades;

/// <summary>
/// The backend connection of an upgrade the forwarder sent itself (<see cref="Http1UpgradeExchange"/>), once the backend
/// switched (bytes it sent with its 101 already come first: <see cref="Tunneling.PrefixedRelayEnd"/>).
/// </summary>
/// <remarks>
/// The client's end of stream is passed on as the HTTP client's upgraded streams pass it (so a backend sees the same
/// either way): after an upgraded HTTP/1.1 client's end (Kestrel cannot half-close that connection) the connection
/// sends its FIN and stops reading, so the relay ends once the client's bytes are delivered (as
/// <see cref="UpgradedStreamRelayEnd.EndOnShutdown"/>); an HTTP/2 client's END_STREAM is not passed on, since servers
/// such as Kestrel end an upgraded connection at its FIN and would cut their pending answer: the backend keeps its side
/// until it ends it or the client resets.
/// </remarks>
internal sealed class SwitchedConnectionRelayEnd(RelayEnd connection, bool http1Client) : RelayEnd
{
    private readonly CancellationTokenSource? _ended = http1Client ? new() : null;

    public override async ValueTask WaitForDataAsync(CancellationToken cancellationToken)
    {
        try
        {
            // The relay's token is not needed here: its abort also aborts this end, which fails the pending receive.
            await connection.WaitForDataAsync(_ended?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_ended is { IsCancellationRequested: true })
        {
            // Stopped reading: the next ReadAsync reports the end.
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_ended is { IsCancellationRequested: true })
        {
            return 0;
        }
        try
        {
            return await connection.ReadAsync(buffer, _ended?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_ended is { IsCancellationRequested: true })
        {
            return 0;
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => connection.WriteAsync(data, cancellationToken);

    public override void CountBytes(long count, bool read) => connection.CountBytes(count, read);

    public override void ShutdownWrite()
    {
        if (_ended is not null)
        {
            connection.ShutdownWrite();
            _ended.Cancel();
        }
    }

    public override void Abort() => connection.Abort();

    public override ValueTask DisposeAsync()
    {
        _ended?.Dispose();
        return connection.DisposeAsync();
    }
}
