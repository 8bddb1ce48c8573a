// Programmatic: the KinesisFirehose target built in code with a plain LoggingConfiguration, no nlog.config, and the
// AWS Lambda pattern: LogManager.Flush() at the end of every invocation.
//
//   dotnet run --project examples/Programmatic                       -> a local Firehose stand-in on loopback
//   dotnet run --project examples/Programmatic -- my-stream eu-west-1 -> your real delivery stream (default AWS credentials)
using System;
using System.Threading.Tasks;
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
    Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", FirehoseStandIn.DefaultAccessKey);
    Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", FirehoseStandIn.DefaultSecretKey);
    Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    Console.WriteLine($"Started a local Firehose stand-in at {standIn.Url}.");
}

var config = new LoggingConfiguration();
config.AddRule(LogLevel.Info, LogLevel.Fatal, target);
LogManager.Configuration = config;
var logger = LogManager.GetLogger("Programmatic");

// An AWS Lambda handler would look like this: log, then flush before returning, because the runtime freezes the
// process between invocations and may end it without notice.
for (int invocation = 1; invocation <= 3; invocation++)
{
    Handle(invocation);
    Console.WriteLine($"Invocation {invocation}: {(standIn is null ? "flushed" : standIn.Records(stream).Count + " records at the stand-in")}");
}

LogManager.Shutdown();
if (standIn != null)
    await standIn.DisposeAsync();

void Handle(int invocation)
{
    try
    {
        for (int i = 0; i < 100; i++)
            logger.Info("Invocation {Invocation} handled item {Item}", invocation, i);
    }
    finally
    {
        LogManager.Flush(TimeSpan.FromSeconds(5)); // returns once this invocation's events are delivered
    }
}
