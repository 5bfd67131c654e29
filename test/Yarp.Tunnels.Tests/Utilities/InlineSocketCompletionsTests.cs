using System.Net;
using System.Net.Sockets;
using Yarp.Tunnels.Utilities;
using Xunit;

namespace Yarp.Tunnels.Tests.Utilities;

public class InlineSocketCompletionsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void IsSupported_ThisRuntime_HasThePerSocketSetting()
    {
        // The relay's small-message path depends on it (a Unix socket setting): a runtime that dropped it would silently
        // lose that path.
        Assert.Equal(!OperatingSystem.IsWindows(), InlineSocketCompletions.IsSupported);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Prefer_ReceiveCompletesLater_ContinuationRunsOnTheEventThreadOnlyWhenInline(bool inline)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var (client, server) = await ConnectedPairAsync();
        using (client)
        using (server)
        {
            InlineSocketCompletions.Prefer(server, inline);

            var receive = ReceiveAndReportThreadAsync(server);
            await Task.Delay(50);
            Assert.False(receive.IsCompleted);
            await client.SendAsync(new byte[] { 1 });
            var (received, onThreadPool) = await receive.WaitAsync(Timeout);

            Assert.Equal(1, received);
            // The runtime's event thread is a thread of its own; a handed-off completion runs on the thread pool.
            Assert.Equal(!inline, onThreadPool);
        }
    }

    private static async Task<(int Received, bool OnThreadPool)> ReceiveAndReportThreadAsync(Socket socket)
    {
        var buffer = new byte[16];
        var received = await socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
        return (received, Thread.CurrentThread.IsThreadPoolThread);
    }

    private static async Task<(Socket Client, Socket Server)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        return (client, await accept.WaitAsync(Timeout));
    }
}
