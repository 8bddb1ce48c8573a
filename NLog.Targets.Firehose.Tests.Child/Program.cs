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
            for (int i = 0; i < count; i++)
            {
                logger.Info("event {Seq}", i);
                if (perMillisecond > 0 && i % perMillisecond == 0)
                    Thread.Sleep(1);
            }
            Console.WriteLine("LOGGED " + count);
            Console.Out.Flush();
            Thread.Sleep(Timeout.Infinite);
            return 0;
        }
    }
}
