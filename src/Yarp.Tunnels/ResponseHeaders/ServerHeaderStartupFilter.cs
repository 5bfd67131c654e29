using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Yarp.Tunnels.ResponseHeaders;

/// <summary>Puts <see cref="ServerHeaderMiddleware"/> first in the app's pipeline, so local answers get the header too.</summary>
internal sealed class ServerHeaderStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<ServerHeaderMiddleware>();
        next(app);
    };
}
