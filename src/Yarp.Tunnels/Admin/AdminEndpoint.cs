using Microsoft.AspNetCore.Http;

namespace Yarp.Tunnels.Admin;

/// <summary>One admin endpoint: its path, the one method it answers (GET for reads, POST for mutations), what it does, and the handler.</summary>
internal sealed record AdminEndpoint(string Path, string Method, string Help, RequestDelegate Handle)
{
    public bool IsMutation => Method == HttpMethods.Post;
}
