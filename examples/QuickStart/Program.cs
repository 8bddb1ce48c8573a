// QuickStart: log through the KinesisFirehose target configured in nlog.config.
//
//   dotnet run --project examples/QuickStart                      -> a local Firehose stand-in on loopback, no AWS account
//   dotnet run --project examples/QuickStart -- my-stream eu-west-1 -> your real delivery stream (default AWS credentials)
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using NLog;
using NLog.Targets.Firehose.StandIn;

const int EventCount = 5_000;
string? realStream = args.Length > 0 ? args[0] : null;
FirehoseStandIn? standIn = null;

if (realStream is null)
{
    standIn = await FirehoseStandIn.StartAsync();
    standIn.CreateStream("quickstart-logs");
    // The target takes endpoint, region and credentials from the standard AWS variables: point them at the stand-in.
    standIn.SetAwsEnvironment(); // AWS_ENDPOINT_URL_FIREHOSE, AWS_REGION and the stand-in's keys
    Environment.SetEnvironmentVariable("QUICKSTART_STREAM", "quickstart-logs");
    Console.WriteLine($"Started a local Firehose stand-in at {standIn.Url} (pass a stream name to use real Firehose).");
}
else
{
    Environment.SetEnvironmentVariable("QUICKSTART_STREAM", realStream);
    if (args.Length > 1)
        Environment.SetEnvironmentVariable("AWS_REGION", args[1]);
    Console.WriteLine($"Sending to delivery stream '{realStream}' with the AWS SDK's default credentials.");
}

LogManager.Setup().LoadConfigurationFromFile(Path.Combine(AppContext.BaseDirectory, "nlog.config"));
var logger = LogManager.GetLogger("QuickStart.Orders");
var clock = Stopwatch.StartNew();
try
{
    using (ScopeContext.PushProperty("RunId", Guid.NewGuid().ToString("N").Substring(0, 8)))
    {
        for (int i = 0; i < EventCount; i++)
        {
            if (i % 1000 == 999)
                logger.Warn(new InvalidOperationException("payment declined"), "Order {OrderId} failed for {Customer}", i, "ada");
            else
                logger.Info("Order {OrderId} shipped to {City} in {ElapsedMs} ms", i, "Zürich", i % 250);
        }
    }
}
finally
{
    // Deliver everything queued before the process exits (on Linux NLog does not flush at exit by itself).
    LogManager.Shutdown();
}
clock.Stop();

if (standIn is null)
{
    Console.WriteLine($"Logged {EventCount} events and flushed them in {clock.ElapsedMilliseconds} ms. Check your stream's destination.");
    return 0;
}

var records = standIn.Records("quickstart-logs");
var calls = standIn.Calls;
Console.WriteLine($"Logged {EventCount} events; the stand-in received {records.Count} records in {calls.Count} PutRecordBatch calls ({clock.ElapsedMilliseconds} ms, shutdown included).");
Console.WriteLine($"Largest call: {calls.Max(c => c.Records)} records, {calls.Max(c => c.DataBytes):N0} bytes. Protocol problems seen: {standIn.Violations.Count}.");
Console.WriteLine("Sample record:");
Console.Write(Encoding.UTF8.GetString(records.Last()));
await standIn.DisposeAsync();
return records.Count == EventCount && standIn.Violations.Count == 0 ? 0 : 1;
