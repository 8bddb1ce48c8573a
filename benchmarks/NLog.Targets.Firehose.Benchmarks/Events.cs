using System;
using System.Threading;
using System.Threading.Tasks;
using NLog.Layouts;
using NLog.Targets.Firehose.Internal.Aws;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>What every benchmark logs and how.</summary>
    internal static class Events
    {
        public const string Template = "Order {OrderId} shipped to {Customer}";

        /// <summary>The target's default JSON layout, as both sides of a comparison use it.</summary>
        public static Layout JsonLayout() => new FirehoseTarget().Layout;

        /// <summary>A Firehose client that accepts every call at once.</summary>
        public sealed class InstantClient : IFirehoseClient
        {
            public Task<DeliveryStreamDescription> DescribeDeliveryStreamAsync(string deliveryStreamName, System.Threading.CancellationToken cancellationToken) =>
                Task.FromResult(new DeliveryStreamDescription("ACTIVE", "DirectPut"));

            private static readonly Task<PutRecordBatchResult>[] Cache = new Task<PutRecordBatchResult>[501];

            public Task<PutRecordBatchResult> PutRecordBatchAsync(string deliveryStreamName, System.Collections.Generic.IReadOnlyList<IWireRecord> records, CancellationToken cancellationToken)
            {
                int n = records.Count;
                if (n <= 500)
                    return Cache[n] ??= Task.FromResult(PutRecordBatchResult.AllAccepted(n));
                return Task.FromResult(PutRecordBatchResult.AllAccepted(n));
            }

            public void Dispose()
            {
            }
        }

        /// <summary>A stalled endpoint: no call is ever answered (until the target closes and cancels it).</summary>
        public sealed class StalledClient : IFirehoseClient
        {
            public Task<DeliveryStreamDescription> DescribeDeliveryStreamAsync(string deliveryStreamName, CancellationToken cancellationToken) =>
                Task.FromResult(new DeliveryStreamDescription("ACTIVE", "DirectPut"));

            public async Task<PutRecordBatchResult> PutRecordBatchAsync(string deliveryStreamName, System.Collections.Generic.IReadOnlyList<IWireRecord> records, CancellationToken cancellationToken)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                throw new OperationCanceledException(cancellationToken);
            }

            public void Dispose()
            {
            }
        }

        /// <summary>The floor: NLog's NullTarget rendering the same JsonLayout on the calling thread.</summary>
        public static LogFactory NullTargetFactory()
        {
            var factory = new LogFactory();
            var config = new NLog.Config.LoggingConfiguration(factory);
            config.AddRuleForAllLevels(new NullTarget("null") { FormatMessage = true, Layout = JsonLayout() });
            factory.Configuration = config;
            return factory;
        }

        /// <summary>The target with its defaults and a client that answers at once.</summary>
        public static LogFactory InstantFirehoseFactory(out FirehoseTarget target, Action<FirehoseTarget>? configure = null, Target? instead = null)
        {
            var factory = new LogFactory();
            var config = new NLog.Config.LoggingConfiguration(factory);
            target = new FirehoseTarget { Name = "fh", DeliveryStreamName = "app-logs", Region = "us-east-1", Seams = { ClientFactory = _ => new InstantClient() } };
            configure?.Invoke(target);
            config.AddRuleForAllLevels(instead ?? target);
            factory.Configuration = config;
            return factory;
        }

        public static LogEventInfo Create(int i) =>
            LogEventInfo.Create(LogLevel.Info, "Bench", null, Template, new object[] { 100_000 + i, "customer-" + (i % 100) });
    }
}
