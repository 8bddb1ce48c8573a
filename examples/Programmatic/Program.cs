// Programmatic: the KinesisFirehose target built in code with a plain LoggingConfiguration, no nlog.config.
// (The AWS Lambda pattern, a flush at the end of every invocation, is in examples/Lambda.)
//
//   dotnet run --project examples/Programmatic                       -> a local Firehose stand-in on loopback
//   dotnet run --project examples/Programmatic -- my-stream eu-west-1 -> your real delivery stream (default AWS credentials)
using System;
using NLog;
using NLog.Config;
using NLog.Layouts;
using NLog.Targets.Firehose;
using NLog.Targets.Firehose.StandIn;

string stream = args.Length > 0 ? args[0] : "programmatic-logs";
FirehoseStandIn? standIn = null;
var target = new FirehoseTarget
{
    Name = "firehose",
    DeliveryStreamName = stream,
    Region = args.Length > 1 ? args[1] : "us-east-1",
    // Any layout works; this one keeps the default JSON fields and adds the machine name.
    Layout = new JsonLayout
    {
        IncludeEventProperties = true,
        Attributes =
        {
            new JsonAttribute("time", "${date:universalTime=true:format=o}"),
            new JsonAttribute("level", "${level:upperCase=true}"),
            new JsonAttribute("message", "${message}"),
            new JsonAttribute("host", "${machinename}"),
        },
    },
};
if (args.Length == 0)
{
    standIn = await FirehoseStandIn.StartAsync();
    standIn.CreateStream(stream);
    target.ServiceUrl = standIn.Url.ToString();
    standIn.SetAwsEnvironment(); // the stand-in's keys for the default credential chain
    Console.WriteLine($"Started a local Firehose stand-in at {standIn.Url}.");
}

var config = new LoggingConfiguration();
config.AddRule(LogLevel.Info, LogLevel.Fatal, target);
LogManager.Configuration = config;
var logger = LogManager.GetLogger("Programmatic");

using (ScopeContext.PushProperty("Run", Guid.NewGuid().ToString("N").Substring(0, 8)))
{
    for (int i = 0; i < 300; i++)
        logger.Info("Built in code, event {Seq} of {Total}", i, 300);
}

LogManager.Shutdown(); // delivers what is queued before the process exits
if (standIn is null)
{
    Console.WriteLine("Logged 300 events; check your stream's destination.");
    return 0;
}
int received = standIn.Records(stream).Count;
Console.WriteLine($"Logged 300 events; the stand-in received {received} records.");
await standIn.DisposeAsync();
return received == 300 ? 0 : 1;
