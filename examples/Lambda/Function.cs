using System;
using System.IO;
using System.Text.Json;
using NLog;

namespace LambdaExample
{
    /// <summary>
    /// An AWS Lambda function (managed .NET runtime, handler <c>Lambda::LambdaExample.Function::FunctionHandler</c>; a
    /// Stream in and out needs no Lambda package) that logs through the KinesisFirehose target.
    /// <para>
    /// The pattern: configure NLog once per execution environment (a static, at cold start), and flush at the end of every
    /// invocation. Between invocations Lambda freezes the process, and it may end a frozen process without notice:
    /// whatever the target still holds when the handler returns may never be sent. <c>LogManager.Flush</c> returns once
    /// this invocation's events are delivered (or the timeout passes; keep it below the function's remaining time).
    /// </para>
    /// </summary>
    public sealed class Function
    {
        private static readonly Logger Log = CreateLogger();

        private static Logger CreateLogger()
        {
            // Region and credentials come from the Lambda environment (AWS_REGION, the execution role); the stream from
            // an environment variable of the function.
            LogManager.Setup().LoadConfiguration(c => c.ForLogger(LogLevel.Info).WriteToKinesisFirehose(
                Environment.GetEnvironmentVariable("FIREHOSE_STREAM") ?? "lambda-logs"));
            return LogManager.GetLogger("Orders.Function");
        }

        /// <summary>Input: <c>{"orders": N}</c>. Output: <c>{"processed": N}</c>.</summary>
        public Stream FunctionHandler(Stream input)
        {
            try
            {
                using var request = JsonDocument.Parse(input);
                int orders = request.RootElement.GetProperty("orders").GetInt32();
                using (ScopeContext.PushProperty("RequestId", Guid.NewGuid().ToString("N")))
                {
                    for (int i = 0; i < orders; i++)
                        Log.Info("Order {OrderId} processed", i);
                }
                return new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(new { processed = orders }));
            }
            catch (Exception ex)
            {
                Log.Error(ex, "Invocation failed");
                throw;
            }
            finally
            {
                LogManager.Flush(TimeSpan.FromSeconds(5)); // before Lambda freezes the process
            }
        }
    }
}
