using System.Net;
using System.Net.Sockets;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>
/// Connects to <c>tcp://HOST:PORT</c> (or <c>http://HOST:PORT</c>): resolves the host once, keeps the addresses the
/// request's policy allows, and connects to them in order, all within the connect timeout.
/// </summary>
internal sealed class SocketUpstreamConnector(TimeProvider timeProvider) : IUpstreamConnector
{
    public async ValueTask<UpstreamConnection> ConnectAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        if (!TryParse(request.Address, out var host, out var port))
        {
            return UpstreamConnection.Failed(UpstreamFailure.InvalidAddress, $"'{request.Address}' is not a tcp://HOST:PORT address.");
        }

        using var timeout = new CancellationTokenSource(request.ConnectTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            IPAddress[] addresses;
            try
            {
                addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, linked.Token).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                return UpstreamConnection.Failed(UpstreamFailure.ResolveFailed, $"resolving '{host}' failed: {ex.Message}");
            }

            var allowed = request.AddressPolicy is { } policy ? Array.FindAll(addresses, a => policy(a)) : addresses;
            if (allowed.Length == 0)
            {
                return addresses.Length == 0
                    ? UpstreamConnection.Failed(UpstreamFailure.ResolveFailed, $"'{host}' resolved to no address.")
                    : UpstreamConnection.Failed(UpstreamFailure.PolicyDenied, $"the address policy allows none of {string.Join(", ", addresses.Select(a => a.ToString()))}.");
            }

            var reason = "";
            foreach (var address in allowed)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(address, port), linked.Token).ConfigureAwait(false);
                    return UpstreamConnection.Connected(new SocketRelayEnd(socket));
                }
                catch (SocketException ex)
                {
                    socket.Dispose();
                    reason = $"{address}: {ex.Message}";
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
            return UpstreamConnection.Failed(UpstreamFailure.ConnectFailed, reason);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return UpstreamConnection.Failed(UpstreamFailure.Timeout, $"connecting to '{request.Address}' timed out after {request.ConnectTimeout}.");
        }
    }

    /// <summary>Accepts <c>tcp://HOST:PORT</c> and, for convenience, <c>http://HOST:PORT</c>.</summary>
    internal static bool TryParse(string address, out string host, out int port)
    {
        host = "";
        port = 0;
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Port <= 0 || string.IsNullOrEmpty(uri.Host))
        {
            return false;
        }
        host = uri.Host.Trim('[', ']');
        port = uri.Port;
        return true;
    }
}
