using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NLog.Extensions.Logging;
using NLog.Targets.Wrappers;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// The service side of <see cref="WebServiceRun"/> (<c>web-app TARGET PORT STANDIN_URL</c>): an ASP.NET Core minimal API
    /// that logs 3 events per request through <c>ILogger</c> → NLog.Extensions.Logging → TARGET, inside a scope of its own
    /// (besides ASP.NET Core's request scope), rendered by the target's default layout (scope properties included).
    /// TARGET: <c>firehose</c> (the target, defaults, into the stand-in), <c>firehose-nonet</c> (the same with no HTTP: the
    /// body and its hash only, <see cref="NoNetworkClient"/>) or <c>async-null</c> (NLog's
    /// <c>AsyncTargetWrapper</c> around a <c>NullTarget</c> rendering the same layout, as <see cref="ProcessRun"/> sets it).
    /// Framework logging is at <c>Warning</c>, as services usually configure it. Prints <c>ready</c>; on <c>stop</c> on its
    /// standard input it stops, closes NLog (which delivers what is left) and prints the events it logged.
    /// </summary>
    internal static class WebServiceApp
    {
        private static long _sequence;

        public static void Run(TextWriter output, TextReader input, string[] args)
        {
            string kind = args[1];
            int port = int.Parse(args[2], CultureInfo.InvariantCulture);
            string url = args[3];

            var layout = new FirehoseTarget().Layout;
            Targets.Target target = kind.StartsWith("firehose", StringComparison.Ordinal)
                ? new FirehoseTarget { Name = "fh", DeliveryStreamName = "app-logs", Region = "us-east-1", ServiceUrl = url }
                : new AsyncTargetWrapper(new Targets.NullTarget("null") { FormatMessage = true, Layout = layout })
                {
                    Name = "async",
                    QueueLimit = 200_000,
                    OverflowAction = AsyncTargetWrapperOverflowAction.Block,
                    BatchSize = 1000,
                    TimeToSleepBetweenBatches = 1,
                };
            if (kind == "firehose-nonet")
                ((FirehoseTarget)target).Seams.ClientFactory = _ => new NoNetworkClient(); // the body and its hash, no HTTP
            var factory = new LogFactory();
            var config = new NLog.Config.LoggingConfiguration(factory);
            // NLog.Extensions.Logging leaves filtering to NLog's rules (RemoveLoggerFactoryFilter): the framework's own
            // loggers below Warning end here, as services configure them; the application's 3 events go on.
            config.AddRule(NLog.LogLevel.Trace, NLog.LogLevel.Info, new Targets.NullTarget("framework"), "Microsoft.*", final: true);
            config.AddRule(NLog.LogLevel.Trace, NLog.LogLevel.Info, new Targets.NullTarget("framework"), "System.*", final: true);
            config.AddRule(NLog.LogLevel.Info, NLog.LogLevel.Fatal, target);
            factory.Configuration = config;

            var builder = WebApplication.CreateSlimBuilder(Array.Empty<string>());
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Information);
            builder.Logging.AddNLog(_ => factory);
            var app = builder.Build();
            var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Orders");
            app.MapGet("/orders/{id:int}", (int id, HttpContext context) =>
            {
                using (log.BeginScope(new Dictionary<string, object> { ["OrderId"] = id, ["Customer"] = "customer-42" }))
                {
                    log.LogInformation("Order {OrderId} requested (seq {Seq})", id, Interlocked.Increment(ref _sequence));
                    decimal total = 19.99m + id % 7;
                    log.LogInformation("Order {OrderId} priced at {Total} for {Items} items (seq {Seq})", id, total, 1 + id % 5, Interlocked.Increment(ref _sequence));
                    log.LogInformation("Order {OrderId} served (seq {Seq})", id, Interlocked.Increment(ref _sequence));
                    return Results.Text("{\"id\":" + id.ToString(CultureInfo.InvariantCulture) + ",\"total\":" + total.ToString(CultureInfo.InvariantCulture) + "}", "application/json");
                }
            });
            app.StartAsync().GetAwaiter().GetResult();
            output.WriteLine("ready");
            output.Flush();

            while (input.ReadLine() is string line && line != "stop")
            {
            }
            app.StopAsync().GetAwaiter().GetResult();
            string watch = target is FirehoseTarget watched ? FormattableString.Invariant($" restarts={watched.Statistics.HandOverRestarts} rearms={watched.Statistics.HandOverRearms}") : "";
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            factory.Shutdown();
            output.WriteLine(FormattableString.Invariant($"logged={Interlocked.Read(ref _sequence)} close_ms={stopwatch.ElapsedMilliseconds} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)} gc_pause_ms={GC.GetTotalPauseDuration().TotalMilliseconds:0}{watch}"));
            output.Flush();
            ((IDisposable)app).Dispose();
        }
    }
}
