using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Yarp.Tunnels.Admin;

/// <summary>How admin endpoints answer: a status, a content type and a whole body, never cached (as Envoy's admin).</summary>
internal static class AdminResponses
{
    public const string TextContentType = "text/plain; charset=UTF-8";
    public const string JsonContentType = "application/json";
    public const string HtmlContentType = "text/html; charset=UTF-8";

    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    /// <summary>An indented JSON document (and a newline) written by <paramref name="write"/>, answered 200.</summary>
    public static Task JsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, Indented))
        {
            write(json);
        }
        return WriteAsync(context, StatusCodes.Status200OK, JsonContentType, Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n");
    }

    public static Task TextAsync(HttpContext context, int status, string text) => WriteAsync(context, status, TextContentType, text);

    public static Task WriteAsync(HttpContext context, int status, string contentType, string body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        var bytes = Encoding.UTF8.GetBytes(body);
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }
}
