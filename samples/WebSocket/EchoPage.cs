namespace WebSocketSample;

/// <summary>The static page at <c>/</c> (index.html, embedded in the assembly).</summary>
internal static class EchoPage
{
    private static readonly byte[] Html = Load();

    public static IResult Serve(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(Html, "text/html; charset=utf-8");
    }

    private static byte[] Load()
    {
        using var resource = typeof(EchoPage).Assembly.GetManifestResourceStream("index.html")
            ?? throw new InvalidOperationException("index.html is not embedded in the sample assembly.");
        using var buffer = new MemoryStream();
        resource.CopyTo(buffer);
        return buffer.ToArray();
    }
}
