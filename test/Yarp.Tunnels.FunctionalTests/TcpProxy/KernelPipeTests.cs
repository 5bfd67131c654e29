using System.Net.Sockets;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.TcpProxy;

namespace Yarp.Tunnels.FunctionalTests.TcpProxy;

public class KernelPipeTests
{
    [Fact]
    public async Task SpliceFromAndTo_LoopbackSockets_MoveBytesExactlyAndReportWouldBlockAndEnd()
    {
        var token = TestHost.TimeoutToken();
        var (sender, source) = await SocketIo.ConnectedPairAsync(token);
        var (destination, receiver) = await SocketIo.ConnectedPairAsync(token);
        using (sender)
        using (source)
        using (destination)
        using (receiver)
        {
            await KernelPipe.PrepareAsync(source, token);
            await KernelPipe.PrepareAsync(destination, token);
            var pipe = KernelPipe.Rent();
            Assert.NotNull(pipe);
            // Nothing received yet: the splice does not block.
            Assert.Equal(KernelPipe.WouldBlock, pipe.SpliceFrom(source));

            var payload = Payload.Expected(100_000);
            await SocketIo.SendAllAsync(sender, payload, token);
            var moved = 0;
            while (moved < payload.Length)
            {
                await source.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, token);
                var count = pipe.SpliceFrom(source);
                Assert.NotEqual(0, count);
                for (var left = Math.Max(count, 0); left > 0;)
                {
                    var sent = pipe.SpliceTo(destination, left);
                    Assert.True(sent > 0, "the destination's empty socket buffer has room");
                    left -= sent;
                }
                moved += Math.Max(count, 0);
            }
            Assert.Equal(payload, await SocketIo.ReadExactlyAsync(receiver, payload.Length, token));

            sender.Shutdown(SocketShutdown.Send);
            await source.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, token);
            Assert.Equal(0, pipe.SpliceFrom(source));
            pipe.Return();
        }
    }

    [Fact]
    public async Task Read_BytesLeftInThePipe_CopiesThemOutInOrder()
    {
        var token = TestHost.TimeoutToken();
        var (sender, source) = await SocketIo.ConnectedPairAsync(token);
        using (sender)
        using (source)
        {
            await KernelPipe.PrepareAsync(source, token);
            using var pipe = KernelPipe.Rent()!;
            var payload = Payload.Expected(3000);
            await SocketIo.SendAllAsync(sender, payload, token);
            var copied = new List<byte>();
            while (copied.Count < payload.Length)
            {
                await source.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, token);
                var count = pipe.SpliceFrom(source);
                var buffer = new byte[Math.Max(count, 0)];
                Assert.Equal(buffer.Length, pipe.Read(buffer));
                copied.AddRange(buffer);
            }
            Assert.Equal(payload, copied.ToArray());
        }
    }
}
