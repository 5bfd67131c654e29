using Microsoft.Extensions.Time.Testing;
using Yarp.Tunnels.Utilities;

namespace Yarp.Tunnels.Tests.Utilities;

public class IdleTimerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Touch_BeforeTimeout_PostponesCallbackByTheFullTimeout()
    {
        var time = new FakeTimeProvider();
        var fired = 0;
        using var timer = new IdleTimer(Timeout, time, () => fired++);

        time.Advance(TimeSpan.FromSeconds(6));
        timer.Touch();
        time.Advance(TimeSpan.FromSeconds(6)); // 12 s since start, 6 s since the touch
        Assert.Equal(0, fired);

        time.Advance(TimeSpan.FromSeconds(4)); // 10 s since the touch
        Assert.Equal(1, fired);
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void Dispose_BeforeTimeout_NeverCallsBack()
    {
        var time = new FakeTimeProvider();
        var fired = 0;
        var timer = new IdleTimer(Timeout, time, () => fired++);

        timer.Dispose();
        time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(0, fired);
    }

    [Fact]
    public void Constructor_NonPositiveTimeout_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new IdleTimer(TimeSpan.Zero, TimeProvider.System, () => { }));
}
