using System;
using System.Threading;
using NLog;

namespace NLog.Targets.Firehose.Tests.Child
{
    /// <summary>
    /// Usage: <c>Child NLOG_CONFIG COUNT [EVENTS_PER_MS]</c>. Logs events <c>Seq</c> 0..COUNT-1 through the configuration
    /// file, prints <c>LOGGED COUNT</c>, then waits for the test to kill it (it never calls Flush or Shutdown).
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length < 2)
            {
                Console.Error.WriteLine("usage: Child NLOG_CONFIG COUNT [EVENTS_PER_MS]");
                return 2;
            }
            int count = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
            int perMillisecond = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 0;
            var factory = new LogFactory();
            factory.Setup().LoadConfigurationFromFile(args[0], optional: false);
            var logger = factory.GetLogger("Child");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; i < count; i++)
            {
                logger.Info("event {Seq}", i);
                while (perMillisecond > 0 && clock.ElapsedMilliseconds < i / perMillisecond)
                    Thread.Yield(); // paced, so the kill finds calls in flight
            }
            Console.WriteLine("LOGGED " + count);
            Console.Out.Flush();
            using var never = new ManualResetEventSlim(false);
            never.Wait(); // until the test kills the process
            return 0;
        }
    }
}
