// WorkerService: a Generic Host logging through Microsoft.Extensions.Logging into the KinesisFirehose target, configured
// from the "NLog" section of appsettings.json. Message-template properties and BeginScope values become JSON fields
// (the target's default JsonLayout), and stopping the host delivers the tail of the logs.
//
//   dotnet run --project examples/WorkerService                      -> a local Firehose stand-in on loopback, no AWS account
//   dotnet run --project examples/WorkerService -- my-stream eu-west-1 -> your real delivery stream (default AWS credentials)
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NLog;
using NLog.Extensions.Logging;
using NLog.Targets.Firehose.StandIn;

const string LocalStream = "worker-logs";
string? realStream = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : null;
FirehoseStandIn? standIn = null;
if (realStream is null)
{
    standIn = await FirehoseStandIn.StartAsync();
    standIn.CreateStream(LocalStream);
    // The target takes endpoint, region and credentials from the standard AWS variables: point them at the stand-in.
    standIn.SetAwsEnvironment(); // AWS_ENDPOINT_URL_FIREHOSE, AWS_REGION and the stand-in's keys
    Environment.SetEnvironmentVariable("WORKER_STREAM", LocalStream);
    Console.WriteLine($"Started a local Firehose stand-in at {standIn.Url} (pass a stream name to use real Firehose).");
}
else
{
    Environment.SetEnvironmentVariable("WORKER_STREAM", realStream);
    if (args.Length > 1)
        Environment.SetEnvironmentVariable("AWS_REGION", args[1]);
}

// appsettings.json is found beside the program, whatever the working directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args.Where(a => a.StartsWith('-')).ToArray(), ContentRootPath = AppContext.BaseDirectory });
// NLog's configuration: the "NLog" section of appsettings.json (and of appsettings.{Environment}.json, environment
// variables, …, as any IConfiguration).
LogManager.Setup().LoadConfigurationFromSection(builder.Configuration);
builder.Logging.ClearProviders();
// ShutdownOnDispose: when the host is disposed, NLog shuts down, which delivers what the target still holds.
builder.Logging.AddNLog(new NLogProviderOptions { ShutdownOnDispose = true });
builder.Services.AddHostedService<OrderWorker>();

using (var host = builder.Build())
{
    await host.RunAsync(); // the worker stops the host after its last order; Ctrl+C does too
}

if (standIn is null)
{
    Console.WriteLine($"Logged {OrderWorker.Logged} events; check your stream's destination.");
    return 0;
}

// What arrived: every event, each a JSON object with the template's properties and the scope's values as fields.
var records = standIn.Records(LocalStream).Select(r => JsonDocument.Parse(r).RootElement).ToList();
var fromWorker = records.Count(r => r.GetProperty("logger").GetString() == typeof(OrderWorker).FullName);
var orders = records.Where(r => r.TryGetProperty("OrderId", out _)).ToList();
bool fieldsOk = orders.Count > 0 && orders.All(r =>
    r.TryGetProperty("Amount", out _) && r.TryGetProperty("BatchId", out _) && r.TryGetProperty("Worker", out var w) && w.GetString() == "orders-1");
Console.WriteLine($"The worker logged {OrderWorker.Logged} events; the stand-in received {fromWorker} of them ({records.Count} records with the host's own, in {standIn.Calls.Count} calls); " +
    $"template properties and scope values as JSON fields: {(fieldsOk ? "yes" : "NO")}; protocol problems: {standIn.Violations.Count}.");
Console.WriteLine("Sample record:");
Console.Write(Encoding.UTF8.GetString(standIn.Records(LocalStream).First(r => Encoding.UTF8.GetString(r).Contains("\"OrderId\""))));
await standIn.DisposeAsync();
return fromWorker == OrderWorker.Logged && fieldsOk && standIn.Violations.Count == 0 ? 0 : 1;

/// <summary>Processes a few batches of orders, logging as an application does, then stops the host.</summary>
internal sealed class OrderWorker : BackgroundService
{
    public const int Batches = 20;
    public const int OrdersPerBatch = 250;
    private static int _logged;
    private readonly ILogger<OrderWorker> _logger;
    private readonly IHostApplicationLifetime _lifetime;

    public OrderWorker(ILogger<OrderWorker> logger, IHostApplicationLifetime lifetime)
    {
        _logger = logger;
        _lifetime = lifetime;
    }

    /// <summary>Events this worker logged (the host logs its own start and stop messages to the console only).</summary>
    public static int Logged => _logged;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using (_logger.BeginScope(new Dictionary<string, object> { ["Worker"] = "orders-1" }))
        {
            for (int batch = 0; batch < Batches && !stoppingToken.IsCancellationRequested; batch++)
            {
                using (_logger.BeginScope("Batch {BatchId}", $"b-{batch:000}"))
                {
                    for (int i = 0; i < OrdersPerBatch; i++)
                    {
                        int orderId = batch * OrdersPerBatch + i;
                        if (orderId % 500 == 499)
                            _logger.LogWarning(new InvalidOperationException("card declined"), "Order {OrderId} failed: {Amount} EUR", orderId, 12.5m + i);
                        else
                            _logger.LogInformation("Order {OrderId} paid: {Amount} EUR", orderId, 12.5m + i);
                        Interlocked.Increment(ref _logged);
                    }
                }
                await Task.Delay(10, stoppingToken);
            }
        }
        _logger.LogInformation("Worker done after {Batches} batches", Batches);
        Interlocked.Increment(ref _logged);
        _lifetime.StopApplication();
    }
}
