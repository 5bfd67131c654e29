using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Yarp.Tunnels.TcpProxy;

/// <summary>
/// A Linux pipe used as the buffer of a socket-to-socket relay direction: <c>splice(2)</c> moves bytes from one socket
/// into it and from it into the other socket without copying them into this process (HAProxy's splicing). A direction
/// holds a pipe only while bytes move, so idle relays hold none; empty pipes go back to a small shared pool.
/// </summary>
internal sealed partial class KernelPipe : IDisposable
{
    /// <summary>What <see cref="SpliceFrom"/> and <see cref="SpliceTo"/> return when the socket has nothing to read or no room.</summary>
    public const int WouldBlock = -1;

    // The most one splice moves; also the pipe's requested capacity (Linux default 64 KiB, limit fs.pipe-max-size).
    private const int Capacity = 256 * 1024;
    private const int MaxPooled = 128;

    private const uint SpliceMove = 1;
    private const uint SpliceNonBlock = 2;
    private const int NonBlock = 0x800;
    private const int CloseOnExec = 0x80000;
    private const int SetPipeSize = 1031;
    private const int EIntr = 4;
    private const int EAgain = 11;
    private const int EInval = 22;
    private const int ENoSys = 38;

    private static readonly ConcurrentQueue<KernelPipe> Pool = new();
    private static int _pooled;
    private static int _unsupported;

    private readonly int _read;
    private readonly int _write;

    private KernelPipe(int read, int write)
    {
        _read = read;
        _write = write;
    }

    /// <summary>Whether splicing can be tried here: Linux, and no earlier splice was refused by the kernel.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && Volatile.Read(ref _unsupported) == 0;

    /// <summary>An empty pipe from the pool, or a new one; null when none can be made (descriptor limit, no kernel support).</summary>
    public static KernelPipe? Rent()
    {
        if (Pool.TryDequeue(out var pooled))
        {
            Interlocked.Decrement(ref _pooled);
            return pooled;
        }
        Span<int> fds = stackalloc int[2];
        if (Pipe2(ref MemoryMarshal.GetReference(fds), NonBlock | CloseOnExec) != 0)
        {
            return null;
        }
        // Best effort: a larger pipe moves more per splice; the default (64 KiB) still works.
        _ = Fcntl(fds[1], SetPipeSize, Capacity);
        return new KernelPipe(fds[0], fds[1]);
    }

    /// <summary>Gives back a pipe that holds no bytes.</summary>
    public void Return()
    {
        if (Interlocked.Increment(ref _pooled) <= MaxPooled)
        {
            Pool.Enqueue(this);
            return;
        }
        Interlocked.Decrement(ref _pooled);
        Dispose();
    }

    /// <summary>
    /// Has .NET switch the socket's descriptor to non-blocking mode, as its first asynchronous operation on a socket does
    /// (an empty send sends nothing), so a splice never blocks a thread. Sockets read through <see cref="Socket.ReceiveAsync(Memory{byte}, SocketFlags, CancellationToken)"/> before they are spliced need no preparation.
    /// </summary>
    public static async ValueTask PrepareAsync(Socket socket, CancellationToken cancellationToken)
    {
        try
        {
            await socket.SendAsync(ReadOnlyMemory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            // Already shut or reset: the splice reports it.
        }
    }

    /// <summary>
    /// Moves what <paramref name="socket"/> has received (up to the pipe's capacity) into the pipe: the count, 0 at end of
    /// stream, or <see cref="WouldBlock"/>. Throws <see cref="SocketException"/> on a socket error (a reset) and
    /// <see cref="NotSupportedException"/> when the kernel refuses to splice this socket (nothing moved; use a copy).
    /// </summary>
    public int SpliceFrom(Socket socket) => Splice(socket.SafeHandle, toPipe: true, Capacity);

    /// <summary>Moves up to <paramref name="count"/> bytes from the pipe into <paramref name="socket"/>: the count or <see cref="WouldBlock"/>.</summary>
    public int SpliceTo(Socket socket, int count) => Splice(socket.SafeHandle, toPipe: false, count);

    /// <summary>Copies bytes out of the pipe (for a destination that has no room: they are then sent by an ordinary, awaitable send).</summary>
    public int Read(Span<byte> buffer)
    {
        while (true)
        {
            var read = ReadPipe(_read, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);
            if (read >= 0)
            {
                return (int)read;
            }
            if (Marshal.GetLastPInvokeError() is not EIntr and var error)
            {
                throw new SocketException(error);
            }
        }
    }

    public void Dispose()
    {
        _ = Close(_read);
        _ = Close(_write);
    }

    private int Splice(SafeHandle socket, bool toPipe, int count)
    {
        var added = false;
        try
        {
            // Holds the descriptor open while the kernel uses it: an abort on another thread closes it only afterwards.
            socket.DangerousAddRef(ref added);
            var fd = (int)socket.DangerousGetHandle();
            while (true)
            {
                var moved = toPipe
                    ? SpliceNative(fd, 0, _write, 0, (nuint)count, SpliceMove | SpliceNonBlock)
                    : SpliceNative(_read, 0, fd, 0, (nuint)count, SpliceMove | SpliceNonBlock);
                if (moved >= 0)
                {
                    return (int)moved;
                }
                switch (Marshal.GetLastPInvokeError())
                {
                    case EIntr:
                        continue;
                    case EAgain:
                        return WouldBlock;
                    case EInval or ENoSys:
                        Volatile.Write(ref _unsupported, 1);
                        throw new NotSupportedException("The kernel refused to splice this socket.");
                    case var error:
                        throw new SocketException(error);
                }
            }
        }
        finally
        {
            if (added)
            {
                socket.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint SpliceNative(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(ref int fds, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadPipe(int fd, ref byte buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
