using System;
using System.Threading;
using System.Threading.Tasks;
using NLog.Common;
using NLog.Layouts;
using NLog.Targets.Firehose.Internal.Aws;

namespace NLog.Targets.Firehose.Internal.Setup
{
    /// <summary>
    /// The optional start-up check of the stream (<c>checkStreamAtStartup</c>): DescribeDeliveryStream in the background,
    /// findings to the InternalLogger; logging goes on whatever it finds.
    /// </summary>
    internal sealed class StreamCheck
    {
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();

        private StreamCheck(Task running)
        {
            Running = running;
        }

        /// <summary>The check, running or done.</summary>
        public Task Running { get; private set; }

        /// <summary>Starts the check of a fixed <paramref name="streamName"/>; null (and said) when the name is rendered per event.</summary>
        public static StreamCheck? Start(IFirehoseClient client, Layout? streamName, string where, string name)
        {
            if (!(streamName is SimpleLayout fixedName && fixedName.IsFixedText))
            {
                InternalLogger.Info("{0}: checkStreamAtStartup checks a fixed deliveryStreamName only; '{1}' is rendered per event", name, streamName);
                return null;
            }
            var check = new StreamCheck(Task.CompletedTask);
            string stream = fixedName.FixedText ?? string.Empty;
            var token = check._cancel.Token;
            check.Running = Task.Run(() => CheckAsync(client, stream, where, name, token));
            return check;
        }

        /// <summary>Stops a check still running (the target closes). Not disposed: a source without a timer holds nothing to release.</summary>
        public void Cancel() => _cancel.Cancel();

        private static async Task CheckAsync(IFirehoseClient client, string stream, string where, string name, CancellationToken token)
        {
            try
            {
                var description = await client.DescribeDeliveryStreamAsync(stream, token).ConfigureAwait(false);
                if (!string.Equals(description.Status, "ACTIVE", StringComparison.Ordinal))
                    InternalLogger.Warn("{0}: delivery stream '{1}' ({2}) is {3}, not ACTIVE: calls fail until it is; events are kept meanwhile", name, stream, where, description.Status ?? "of unknown status");
                if (!string.Equals(description.Type, "DirectPut", StringComparison.Ordinal))
                    InternalLogger.Warn("{0}: delivery stream '{1}' ({2}) has source {3}, not DirectPut: Firehose refuses PutRecordBatch for it", name, stream, where, description.Type ?? "unknown");
                if (description.Status == "ACTIVE" && description.Type == "DirectPut")
                    InternalLogger.Info("{0}: delivery stream '{1}' ({2}) is ACTIVE and DirectPut", name, stream, where);
            }
            catch (FirehoseServiceException ex) when (ex.ErrorCode == "ResourceNotFoundException")
            {
                InternalLogger.Warn("{0}: delivery stream '{1}' does not exist in {2}: events are kept and sent once it does (check deliveryStreamName and region)", name, stream, where);
            }
            catch (Exception ex) when (!token.IsCancellationRequested && !(ex is OutOfMemoryException))
            {
                string code = ex is FirehoseServiceException service ? service.ErrorCode ?? "HTTP " + service.StatusCode : ex.GetType().Name;
                InternalLogger.Warn("{0}: could not check delivery stream '{1}' ({2}) at start-up: {3}: {4} (the check needs firehose:DescribeDeliveryStream; logging goes on)", name, stream, where, code, ex.Message);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                // closed meanwhile
            }
        }
    }
}
