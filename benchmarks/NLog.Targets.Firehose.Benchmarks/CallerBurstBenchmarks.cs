using BenchmarkDotNet.Attributes;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// Caller cost when the target keeps up: each measured invocation is a burst of 20,000 <c>logger.Info</c> calls, and
    /// between invocations (outside the measurement) the target is flushed, as in an application that logs in bursts.
    /// Same baseline as <see cref="CallerCostBenchmarks"/>: NullTarget rendering the same JsonLayout.
    /// </summary>
    [MemoryDiagnoser]
    [SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 30, invocationCount: 1)]
    public class CallerBurstBenchmarks
    {
        private const int Burst = 20_000;
        private LogFactory _nullFactory = null!;
        private LogFactory _firehoseFactory = null!;
        private Logger _nullLogger = null!;
        private Logger _firehoseLogger = null!;

        [GlobalSetup]
        public void Setup()
        {
            _nullFactory = Events.NullTargetFactory();
            _nullLogger = _nullFactory.GetLogger("Bench");
            _firehoseFactory = Events.InstantFirehoseFactory(out _);
            _firehoseLogger = _firehoseFactory.GetLogger("Bench");
        }

        /// <summary>Lets the target deliver the burst before the next one (not measured).</summary>
        [IterationCleanup]
        public void CatchUp() => _firehoseFactory.Flush();

        [GlobalCleanup]
        public void Cleanup()
        {
            _firehoseFactory.Shutdown();
            _nullFactory.Shutdown();
        }

        [Benchmark(Baseline = true, OperationsPerInvoke = Burst, Description = "burst: NullTarget + JsonLayout (floor)")]
        public void NullTargetJsonLayout()
        {
            for (int i = 0; i < Burst; i++)
                _nullLogger.Info(Events.Template, i, "customer-42");
        }

        [Benchmark(OperationsPerInvoke = Burst, Description = "burst: KinesisFirehose target")]
        public void FirehoseTarget()
        {
            for (int i = 0; i < Burst; i++)
                _firehoseLogger.Info(Events.Template, i, "customer-42");
        }
    }
}
