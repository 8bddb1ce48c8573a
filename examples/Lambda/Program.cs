// Lambda: runs the function in Function.cs three times here, as the Lambda runtime would (one process, warm invocations),
// against a local Firehose stand-in, and checks that each invocation's events were delivered when its handler returned.
//
//   dotnet run --project examples/Lambda
//
// To deploy: publish this project and set the handler to Lambda::LambdaExample.Function::FunctionHandler, the
// environment variable FIREHOSE_STREAM, and allow firehose:PutRecordBatch to the function's execution role.
using System;
using System.IO;
using System.Text;
using LambdaExample;
using NLog.Targets.Firehose.StandIn;

await using var standIn = await FirehoseStandIn.StartAsync();
standIn.CreateStream("lambda-logs");
// What the Lambda environment provides (region, credentials), pointed at the stand-in.
standIn.SetAwsEnvironment(); // AWS_ENDPOINT_URL_FIREHOSE, AWS_REGION and the stand-in's keys
Environment.SetEnvironmentVariable("FIREHOSE_STREAM", "lambda-logs");
Console.WriteLine($"Started a local Firehose stand-in at {standIn.Url}.");

var function = new Function();
bool allDelivered = true;
for (int invocation = 1; invocation <= 3; invocation++)
{
    using var output = function.FunctionHandler(new MemoryStream(Encoding.UTF8.GetBytes("{\"orders\":100}")));
    // The runtime would freeze the process now: whatever is at the stand-in is all that is safe.
    int delivered = standIn.Records("lambda-logs").Count;
    allDelivered &= delivered == invocation * 100;
    Console.WriteLine($"Invocation {invocation}: returned {new StreamReader(output).ReadToEnd()}; {delivered} records at the stand-in when the handler returned");
}
NLog.LogManager.Shutdown();
return allDelivered && standIn.Violations.Count == 0 ? 0 : 1;
