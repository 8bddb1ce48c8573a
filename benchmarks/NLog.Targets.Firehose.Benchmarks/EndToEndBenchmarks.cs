using System;
using System.Threading;
using BenchmarkDotNet.Attributes;
using NLog.Config;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Intake;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// Events per second from <c>logger.Info</c> into the loopback stand-in (in a process of its own) over real, signed
    /// HTTP, until Flush returns:
    /// the target with one and with several calls in flight, against the design of today's community targets — one
    /// call per event, each awaited — as the baseline.
    /// </summary>
    [MemoryDiagnoser]
    [ShortRunJob]
    public class EndToEndBenchmarks
    {
        private const int TargetEvents = 200_000;
        private const int PeerEvents = 2_000;
        private StandInProcess _standIn = null!;
        private LogFactory _oneInFlight = null!;
        private LogFactory _fourInFlight = null!;
        private LogFactory _eightInFlight = null!;
        private LogFactory _packed = null!;
        private FirehoseHttpClient _peerClient = null!;
        private NLog.Layouts.Layout _peerLayout = null!;
        private RecordEncoder _peerEncoder = null!;

        [GlobalSetup]
        public void Setup()
        {
            _standIn = StandInProcess.Start();
            _oneInFlight = Factory(1, packing: false);
            _fourInFlight = Factory(4, packing: false);
            _eightInFlight = Factory(8, packing: false);
            _packed = Factory(4, packing: true);
            var endpoint = FirehoseEndpoint.Resolve(_standIn.Url.ToString(), "us-east-1", null, false, _ => null, () => null);
            _peerClient = new FirehoseHttpClient(endpoint, null, TimeSpan.FromSeconds(30), "peer");
            _peerLayout = Events.JsonLayout();
            _peerEncoder = new RecordEncoder(true, OversizeRecordAction.Truncate);
        }

        /// <summary>Checks that every event of the iteration arrived (a benchmark that lost events would flatter).</summary>
        [IterationCleanup]
        public void CheckEveryEventArrived()
        {
            long lines = _standIn.TakeCount();
            if (lines != TargetEvents && lines != PeerEvents)
                throw new InvalidOperationException($"{lines} events arrived; expected {TargetEvents} (or {PeerEvents} for the peer)");
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _oneInFlight.Shutdown();
            _fourInFlight.Shutdown();
            _eightInFlight.Shutdown();
            _packed.Shutdown();
            _peerClient.Dispose();
            _standIn.Dispose();
        }

        [Benchmark(Baseline = true, OperationsPerInvoke = PeerEvents, Description = "peer: one awaited call per event")]
        public void OneCallPerEvent()
        {
            var one = new BufferedRecord[1];
            for (int i = 0; i < PeerEvents; i++)
            {
                var e = Events.Create(i);
                one[0] = new BufferedRecord("app-logs", _peerEncoder.Encode(_peerLayout.Render(e), e, out _)!, 2, i);
                _peerClient.PutRecordBatchAsync("app-logs", one, CancellationToken.None).GetAwaiter().GetResult();
            }
        }

        [Benchmark(OperationsPerInvoke = TargetEvents, Description = "target, maxConcurrentRequests=1")]
        public void TargetOneInFlight() => LogAndFlush(_oneInFlight);

        [Benchmark(OperationsPerInvoke = TargetEvents, Description = "target, maxConcurrentRequests=4")]
        public void TargetFourInFlight() => LogAndFlush(_fourInFlight);

        [Benchmark(OperationsPerInvoke = TargetEvents, Description = "target, maxConcurrentRequests=8 (default)")]
        public void TargetEightInFlight() => LogAndFlush(_eightInFlight);

        [Benchmark(OperationsPerInvoke = TargetEvents, Description = "target, 4 in flight, recordPacking")]
        public void TargetPacked() => LogAndFlush(_packed);

        private static void LogAndFlush(LogFactory factory)
        {
            var logger = factory.GetLogger("Bench");
            for (int i = 0; i < TargetEvents; i++)
                logger.Info(Events.Template, i, "customer-42");
            factory.Flush(TimeSpan.FromMinutes(2));
        }

        private LogFactory Factory(int inFlight, bool packing)
        {
            var factory = new LogFactory();
            var config = new LoggingConfiguration(factory);
            config.AddRuleForAllLevels(new FirehoseTarget
            {
                Name = "fh",
                DeliveryStreamName = "app-logs",
                Region = "us-east-1",
                ServiceUrl = _standIn.Url.ToString(),
                MaxConcurrentRequests = inFlight,
                RecordPacking = packing,
                MaxQueueEvents = TargetEvents,
            });
            factory.Configuration = config;
            return factory;
        }
    }
}
