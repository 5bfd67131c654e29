using System.Net.Security;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Connect;

/// <summary>
/// A TLS client session over an upstream end (TLS origination): the relay moves plaintext, the target sees TLS.
/// A half-close sends TLS <c>close_notify</c> and then the transport's own half-close.
/// </summary>
internal sealed class TlsRelayEnd(SslStream tls, RelayEnd transport) : RelayEnd
{
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => tls.ReadAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => tls.WriteAsync(data, cancellationToken);

    public override void ShutdownWrite() => _ = ShutdownAsync();

    public override void Abort() => transport.Abort();

    public override async ValueTask DisposeAsync()
    {
        await tls.DisposeAsync().ConfigureAwait(false);
        await transport.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ShutdownAsync()
    {
        try
        {
            await tls.ShutdownAsync().ConfigureAwait(false);
            transport.ShutdownWrite();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection went away meanwhile; the reading loop sees it.
        }
    }
}
