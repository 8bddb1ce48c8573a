using BenchmarkDotNet.Attributes;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// What one <c>logger.Info(template, a, b)</c> costs the calling thread: through the Firehose target (client answering
    /// at once) against NLog's NullTarget rendering the same JsonLayout (<c>formatMessage="true"</c>), the floor every
    /// target pays.
    /// </summary>
    [MemoryDiagnoser]
    [ShortRunJob]
    public class CallerCostBenchmarks
    {
        private LogFactory _nullFactory = null!;
        private LogFactory _firehoseFactory = null!;
        private Logger _nullLogger = null!;
        private Logger _firehoseLogger = null!;
        private int _i;

        [GlobalSetup]
        public void Setup()
        {
            _nullFactory = Events.NullTargetFactory();
            _nullLogger = _nullFactory.GetLogger("Bench");
            _firehoseFactory = Events.InstantFirehoseFactory(out _);
            _firehoseLogger = _firehoseFactory.GetLogger("Bench");
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            _firehoseFactory.Shutdown();
            _nullFactory.Shutdown();
        }

        [Benchmark(Baseline = true, Description = "NullTarget + JsonLayout (floor)")]
        public void NullTargetJsonLayout() => _nullLogger.Info(Events.Template, ++_i, "customer-42");

        [Benchmark(Description = "KinesisFirehose target")]
        public void FirehoseTarget() => _firehoseLogger.Info(Events.Template, ++_i, "customer-42");
    }
}
