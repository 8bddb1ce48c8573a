using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using NLog;

namespace NLog.Targets.Firehose.Tests.Child
{
    /// <summary>
    /// Usage: <c>Child NLOG_CONFIG COUNT [EVENTS_PER_MS [KILL_AFTER_TAKEN_SECONDS]]</c>. Logs events <c>Seq</c> 0..COUNT-1
    /// through the configuration file and prints <c>LOGGED COUNT</c>; it never calls Flush or Shutdown. Then it waits for
    /// the test to kill it, or, with KILL_AFTER_TAKEN_SECONDS, waits until the target named <c>fh</c> has taken every
    /// event from NLog's queue, prints <c>TAKEN COUNT</c>, and kills itself (SIGKILL) that many seconds later.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length < 2)
            {
                Console.Error.WriteLine("usage: Child NLOG_CONFIG COUNT [EVENTS_PER_MS [KILL_AFTER_TAKEN_SECONDS]]");
                return 2;
            }
            int count = int.Parse(args[1], CultureInfo.InvariantCulture);
            int perMillisecond = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
            double killAfterTaken = args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : -1;
            var factory = new LogFactory();
            factory.Setup().LoadConfigurationFromFile(args[0], optional: false);
            var logger = factory.GetLogger("Child");
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < count; i++)
            {
                logger.Info("event {Seq}", i);
                while (perMillisecond > 0 && clock.ElapsedMilliseconds < i / perMillisecond)
                    Thread.Yield(); // paced, so the kill finds calls in flight
            }
            Console.WriteLine("LOGGED " + count);
            Console.Out.Flush();
            using var never = new ManualResetEventSlim(false);
            if (killAfterTaken >= 0)
            {
                var target = factory.Configuration!.FindTargetByName<FirehoseTarget>("fh")!;
                while (target.HandedOverEvents < count)
                    never.Wait(1); // the clock's smallest step: no signal crosses from NLog's writer
                Console.WriteLine("TAKEN " + count);
                Console.Out.Flush();
                never.Wait(TimeSpan.FromSeconds(killAfterTaken));
                Process.GetCurrentProcess().Kill(); // SIGKILL: no handler runs, nothing more is flushed
            }
            never.Wait(); // until the test kills the process
            return 0;
        }
    }
}
