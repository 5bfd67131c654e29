using System.Net.Sockets;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.FunctionalTests.Utilities;

public class InlineSocketCompletionsTests
{
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
        var token = TestHost.TimeoutToken();
        var (client, server) = await SocketIo.ConnectedPairAsync(token);
        using (client)
        using (server)
        {
            InlineSocketCompletions.Prefer(server, inline);

            var receive = ReceiveAndReportThreadAsync(server);
            await Task.Delay(50);
            Assert.False(receive.IsCompleted);
            await SocketIo.SendAllAsync(client, new byte[] { 1 }, token);
            var (received, onThreadPool) = await receive.WaitAsync(TestHost.Timeout);

            Assert.Equal(1, received);
            // The runtime's event thread is a thread of its own; a handed-off completion runs on the thread pool.
            Assert.Equal(!inline, onThreadPool);
        }
    }

    private static async Task<(int Received, bool OnThreadPool)> ReceiveAndReportThreadAsync(Socket socket)
    {
        var received = await socket.ReceiveAsync(new byte[16], SocketFlags.None).ConfigureAwait(false);
        return (received, Thread.CurrentThread.IsThreadPoolThread);
    }
}
