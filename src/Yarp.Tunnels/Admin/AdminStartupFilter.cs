using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.Admin;

/// <summary>
/// Puts the HTTP request statistics and the admin endpoint in front of the app's pipeline (before its routing), so
/// every request is counted under its listener's <c>http.&lt;prefix&gt;</c> and admin requests are answered there.
/// </summary>
internal sealed class AdminStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<HttpStatsMiddleware>();
        app.UseMiddleware<AdminMiddleware>();
        next(app);
    };
}
