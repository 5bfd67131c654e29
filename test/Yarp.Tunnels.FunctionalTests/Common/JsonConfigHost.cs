using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// A host configured from a reloading JSON file, as an app's appsettings.json: rewriting the file is a live reload.
/// Collects the errors the host logs.
/// </summary>
internal sealed class JsonConfigHost : IAsyncDisposable
{
    private readonly DirectoryInfo _directory;

    private JsonConfigHost(DirectoryInfo directory, WebApplication app, InternalListenerRegistry registry, ErrorLog errors)
    {
        _directory = directory;
        App = app;
        Registry = registry;
        Errors = errors;
    }

    public WebApplication App { get; }

    public InternalListenerRegistry Registry { get; }

    /// <summary>Every error-level message the host logged.</summary>
    public ErrorLog Errors { get; }

    private string Path => System.IO.Path.Combine(_directory.FullName, "proxy.json");

    /// <summary>Starts a host from <paramref name="json"/>; <c>/who</c> answers the listener and protocol of the request.</summary>
    public static async Task<JsonConfigHost> StartAsync(string json, Action<WebApplicationBuilder>? configure = null, Action<WebApplication>? map = null)
    {
        var directory = Directory.CreateTempSubdirectory("yarp-tunnels-json");
        var path = System.IO.Path.Combine(directory.FullName, "proxy.json");
        await File.WriteAllTextAsync(path, json);
        var errors = new ErrorLog();
        var registry = new InternalListenerRegistry();
        try
        {
            var app = await TestHost.StartAsync(b =>
            {
                b.Configuration.AddJsonFile(path, optional: false, reloadOnChange: true);
                b.Logging.AddProvider(errors);
                var section = b.Configuration.GetSection("ReverseProxy");
                b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, registry);
                configure?.Invoke(b);
            }, app =>
            {
                app.MapGet("/who", (HttpContext c) => c.Features.Get<IHttpListenerFeature>() is { } listener
                    ? $"{listener.ListenerName}|{listener.StatPrefix}|{c.Request.Protocol}"
                    : $"none|{c.Request.Protocol}");
                map?.Invoke(app);
                app.MapReverseProxy();
            });
            return new JsonConfigHost(directory, app, registry, errors);
        }
        catch
        {
            directory.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Rewrites the file: the host reloads it.</summary>
    public Task WriteAsync(string json) => File.WriteAllTextAsync(Path, json);

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        _directory.Delete(recursive: true);
    }

    internal sealed class ErrorLog : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyCollection<string> Messages => _messages;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                _messages.Enqueue(exception is null ? formatter(state, exception) : $"{formatter(state, exception)} {exception}");
            }
        }

        public void Dispose()
        {
        }
    }
}
