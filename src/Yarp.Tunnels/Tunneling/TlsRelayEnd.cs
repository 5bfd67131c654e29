using System.Net;
using System.Net.Security;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.Tunneling;

/// <summary>
/// TLS over another end (the connection to an https upstream proxy). A half-close sends TLS close_notify, then
/// half-closes the connection below; a reset resets it.
/// </summary>
internal sealed class TlsRelayEnd(SslStream tls, RelayEnd inner) : RelayEnd
{
    private Task? _shutdown;

    public override EndPoint? LocalEndPoint => inner.LocalEndPoint;

    public override EndPoint? RemoteEndPoint => inner.RemoteEndPoint;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) => tls.ReadAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => tls.WriteAsync(data, cancellationToken);

    public override void ShutdownWrite() => _shutdown ??= ShutdownAsync();

    public override void Abort() => inner.Abort();

    public override async ValueTask DisposeAsync()
    {
        if (_shutdown is { } shutdown)
        {
            await shutdown.ConfigureAwait(false);
        }
        await tls.DisposeAsync().ConfigureAwait(false);
        await inner.DisposeAsync().ConfigureAwait(false);
    }

    // The writing loop is done when it half-closes, so close_notify is the last write; it never throws.
    private async Task ShutdownAsync()
    {
        try
        {
            await tls.ShutdownAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        inner.ShutdownWrite();
    }
}
