using System.Text;

namespace Yarp.Tunnels.Tunneling;

/// <summary>
/// A parsed HTTP/1.1 response head (status line and header fields), read strictly: CRLF line ends, no obsolete line
/// folding, token header names, at most <see cref="MaxBytes"/> bytes and <see cref="MaxHeaders"/> fields. Interim 1xx
/// responses before the final one are skipped.
/// </summary>
internal sealed class Http1ResponseHead
{
    /// <summary>The largest response head accepted (status line, headers and the blank line).</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>The most header fields accepted.</summary>
    public const int MaxHeaders = 256;

    private Http1ResponseHead(int status, string reason, List<KeyValuePair<string, string>> headers, int length)
    {
        Status = status;
        Reason = reason;
        Headers = headers;
        Length = length;
    }

    public int Status { get; }

    public string Reason { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The bytes the head took, including any interim responses before it; what follows is the body (or tunnel payload).</summary>
    public int Length { get; }

    /// <summary>The first value of header <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? Get(string name)
    {
        foreach (var header in Headers)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return header.Value;
            }
        }
        return null;
    }

    /// <summary>
    /// Parses the head at the start of <paramref name="data"/>: true with <paramref name="head"/> when complete; true with
    /// <paramref name="error"/> when malformed or over the limits; false when more bytes are needed.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out Http1ResponseHead? head, out string? error)
    {
        var offset = 0;
        while (true)
        {
            if (!TryParseOne(data[offset..], offset, out head, out error))
            {
                if (data.Length >= MaxBytes)
                {
                    error = $"the response head exceeds {MaxBytes} bytes";
                    return true;
                }
                return false;
            }
            if (error is not null || head!.Status is >= 200 or 101)
            {
                return true;
            }
            // An interim response (100 Continue, 102, 103): the final one follows.
            offset = head.Length;
        }
    }

    private static bool TryParseOne(ReadOnlySpan<byte> data, int start, out Http1ResponseHead? head, out string? error)
    {
        head = null;
        error = null;
        var lineEnd = data.IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            return StopIfBad(data, ref error);
        }
        if (!TryParseStatusLine(data[..lineEnd], out var status, out var reason, out error))
        {
            return true;
        }
        var headers = new List<KeyValuePair<string, string>>();
        var position = lineEnd + 2;
        while (true)
        {
            var rest = data[position..];
            var end = rest.IndexOf("\r\n"u8);
            if (end < 0)
            {
                return StopIfBad(rest, ref error);
            }
            if (end == 0)
            {
                head = new Http1ResponseHead(status, reason, headers, start + position + 2);
                return true;
            }
            if (headers.Count == MaxHeaders)
            {
                error = $"the response has more than {MaxHeaders} header fields";
                return true;
            }
            if (!TryParseField(rest[..end], out var field, out error))
            {
                return true;
            }
            headers.Add(field);
            position += end + 2;
        }
    }

    // A bare LF or NUL is refused at once rather than waiting for a CRLF that may never come.
    private static bool StopIfBad(ReadOnlySpan<byte> partial, ref string? error)
    {
        var bad = partial.IndexOfAny((byte)'\n', (byte)0);
        if (bad >= 0 && (partial[bad] == 0 || bad == 0 || partial[bad - 1] != '\r'))
        {
            error = "the response head has a bare LF or a NUL byte";
            return true;
        }
        return false;
    }

    private static bool TryParseStatusLine(ReadOnlySpan<byte> line, out int status, out string reason, out string? error)
    {
        status = 0;
        reason = "";
        error = null;
        // HTTP/1.x SP 3DIGIT [SP reason-phrase]
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[7] is not ((byte)'0' or (byte)'1') || line[8] != ' '
            || !char.IsAsciiDigit((char)line[9]) || !char.IsAsciiDigit((char)line[10]) || !char.IsAsciiDigit((char)line[11])
            || (line.Length > 12 && line[12] != ' '))
        {
            error = $"malformed status line '{Printable(line)}'";
            return false;
        }
        status = ((line[9] - '0') * 100) + ((line[10] - '0') * 10) + (line[11] - '0');
        if (status < 100)
        {
            error = $"status {status} is not valid";
            return false;
        }
        var phrase = line.Length > 13 ? line[13..] : [];
        if (phrase.ContainsAnyInRange((byte)0, (byte)8) || phrase.ContainsAnyInRange((byte)10, (byte)31) || phrase.Contains((byte)127))
        {
            error = "the reason phrase has control characters";
            return false;
        }
        reason = Encoding.Latin1.GetString(phrase);
        return true;
    }

    private static bool TryParseField(ReadOnlySpan<byte> line, out KeyValuePair<string, string> field, out string? error)
    {
        field = default;
        error = null;
        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            error = line.Length > 0 && (line[0] == ' ' || line[0] == '\t') ? "obsolete line folding is not accepted" : $"malformed header line '{Printable(line)}'";
            return false;
        }
        var name = line[..colon];
        foreach (var b in name)
        {
            if (!IsTokenChar(b))
            {
                error = $"malformed header name '{Printable(name)}'";
                return false;
            }
        }
        var value = line[(colon + 1)..].Trim(" \t"u8);
        foreach (var b in value)
        {
            if ((b < 0x20 && b != '\t') || b == 0x7F)
            {
                error = $"header '{Printable(name)}' has control characters in its value";
                return false;
            }
        }
        field = new(Encoding.ASCII.GetString(name), Encoding.Latin1.GetString(value));
        return true;
    }

    private static bool IsTokenChar(byte b) => b < 128 && (char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~".Contains((char)b));

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, 100)]);
        return new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }
}
