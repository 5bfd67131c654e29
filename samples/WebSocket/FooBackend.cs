using Microsoft.AspNetCore.Http.Features;

namespace WebSocketSample;

/// <summary>
/// The backend of the custom upgrade token <c>foo</c>, on internal listener <c>foo-echo</c>: accepts
/// <c>Upgrade: foo</c> (HTTP/1.1, answering 101) or an extended CONNECT with <c>:protocol foo</c> (HTTP/2, answering
/// 200), then echoes raw bytes until the client ends its side. Anything else gets 426 Upgrade Required.
/// </summary>
internal static class FooBackend
{
    public const string ListenerName = "foo-echo";
    public const string Token = "foo";

    public static async Task HandleAsync(HttpContext context)
    {
        Stream stream;
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade
            && string.Equals(context.Request.Headers.Upgrade, Token, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Headers.Upgrade = Token;
            stream = await upgrade.UpgradeAsync();
        }
        else if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect
            && string.Equals(connect.Protocol, Token, StringComparison.OrdinalIgnoreCase))
        {
            stream = await connect.AcceptAsync();
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            context.Response.Headers.Upgrade = Token;
            context.Response.Headers.Connection = "Upgrade";
            await context.Response.WriteAsync($"This endpoint speaks the '{Token}' upgrade only.\n", context.RequestAborted);
            return;
        }
        await using (stream)
        {
            try
            {
                await stream.CopyToAsync(stream, context.RequestAborted);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The client reset the stream: nothing left to echo to.
            }
        }
    }
}
