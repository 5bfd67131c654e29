using System.Text;
using Yarp.Tunnels.Tunneling;

namespace Yarp.Tunnels.Tests.Tunneling;

public class Http1ResponseHeadTests
{
    private static bool Parse(string text, out Http1ResponseHead? head, out string? error) =>
        Http1ResponseHead.TryParse(Encoding.Latin1.GetBytes(text), out head, out error);

    [Fact]
    public void TryParse_2xxWithPayloadAfterHead_LengthEndsAtBlankLine()
    {
        Assert.True(Parse("HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\nContent-Length:  0 \r\n\r\nPAYLOAD", out var head, out var error));

        Assert.Null(error);
        Assert.Equal(200, head!.Status);
        Assert.Equal("Connection established", head.Reason);
        Assert.Equal("0", head.Get("content-length"));
        Assert.Equal("HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\nContent-Length:  0 \r\n\r\n".Length, head.Length);
    }

    [Fact]
    public void TryParse_InterimResponses_SkippedToFinal()
    {
        Assert.True(Parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 403 Forbidden\r\n\r\n", out var head, out _));

        Assert.Equal(403, head!.Status);
        Assert.Equal("Forbidden", head.Reason);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nVia: x")]
    [InlineData("HTTP/1.1 20")]
    [InlineData("")]
    public void TryParse_Incomplete_NeedsMore(string text)
    {
        Assert.False(Parse(text, out _, out _));
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\nVia: x\n\n", "bare LF")]
    [InlineData("HTTP/2 200 OK\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/1.1 2x0 OK\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/1.1 200 OK\r\nVia : x\r\n\r\n", "malformed header name")]
    [InlineData("HTTP/1.1 200 OK\r\nVia: x\r\n folded\r\n\r\n", "obsolete line folding")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\u0001b\r\n\r\n", "control characters")]
    public void TryParse_Malformed_Error(string text, string expected)
    {
        Assert.True(Parse(text, out var head, out var error));

        Assert.Null(head);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_HeadOverLimit_ErrorInsteadOfWaiting()
    {
        var text = "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Repeat("X-Filler: " + new string('a', 1000) + "\r\n", 70));

        Assert.True(Parse(text, out var head, out var error));

        Assert.Null(head);
        Assert.Contains("exceeds 65536 bytes", error, StringComparison.Ordinal);
    }
}
