using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;

namespace NLog.Targets.Firehose.Tests.Child
{
    /// <summary>
    /// Usage: <c>Child NLOG_CONFIG COUNT [EVENTS_PER_MS [MODE]]</c>. Logs events <c>Seq</c> 0..COUNT-1 through the
    /// configuration file and prints <c>LOGGED COUNT</c>; it never calls Flush or Shutdown. Then, by MODE:
    /// <list type="bullet">
    /// <item><c>wait</c> (the default): waits for the test to kill it (SIGKILL or SIGTERM).</item>
    /// <item><c>kill-after-taken:SECONDS</c>: waits until the target has taken every event from NLog's queue,
    /// prints <c>TAKEN COUNT</c>, and kills itself (SIGKILL) that many seconds later.</item>
    /// <item><c>return</c>: returns from <c>Main</c> at once, as an application that forgot <c>LogManager.Shutdown()</c>.</item>
    /// </list>
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            if (args.Length < 2)
            {
                Console.Error.WriteLine("usage: Child NLOG_CONFIG COUNT [EVENTS_PER_MS [wait|kill-after-taken:SECONDS|return]]");
                return 2;
            }
            int count = int.Parse(args[1], CultureInfo.InvariantCulture);
            int perMillisecond = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
            string mode = args.Length > 3 ? args[3] : "wait";
            // LogManager, as applications log: its factory closes the targets when the process exits (return, SIGTERM).
            LogManager.Setup().LoadConfigurationFromFile(args[0], optional: false);
            var factory = LogManager.LogFactory;
            var logger = factory.GetLogger("Child");
            // FH_CHILD_HOLD_TAIL=N: the last N events are logged while NLog's writer is held for good in a hand-over of one
            // marker event, so they are still in NLog's own queue when the process ends (on purpose, deterministically).
            int tail = int.TryParse(Environment.GetEnvironmentVariable("FH_CHILD_HOLD_TAIL"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 0;
            var target = factory.Configuration!.AllTargets.OfType<FirehoseTarget>().Single();
            using var writerHeld = new ManualResetEventSlim(false);
            using var never = new ManualResetEventSlim(false);
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < count; i++)
            {
                if (tail > 0 && i == count - tail)
                {
                    while (target.Statistics.HandedOverEvents < i)
                        never.Wait(1); // everything so far taken: the held hand-over holds the marker alone
                    target.Seams.BeforeHandOver = () => { writerHeld.Set(); never.Wait(); };
                    factory.GetLogger("Hold").Info("the writer is held in this event's hand-over");
                    if (!writerHeld.Wait(TimeSpan.FromSeconds(60)))
                        Console.WriteLine("the writer was not held");
                }
                logger.Info("event {Seq}", i);
                while (perMillisecond > 0 && clock.ElapsedMilliseconds < i / perMillisecond)
                    Thread.Yield(); // paced, so the kill finds calls in flight
            }
            Console.WriteLine("LOGGED " + count);
            Console.Out.Flush();
            if (mode == "return")
                return 0; // no Shutdown(): NLog closes the targets as the process exits
            if (mode.StartsWith("kill-after-taken:", StringComparison.Ordinal))
            {
                double seconds = double.Parse(mode.Substring("kill-after-taken:".Length), CultureInfo.InvariantCulture);
                while (target.Statistics.HandedOverEvents < count)
                    never.Wait(1); // the clock's smallest step: no signal crosses from NLog's writer
                Console.WriteLine("TAKEN " + count);
                Console.Out.Flush();
                never.Wait(TimeSpan.FromSeconds(seconds));
                Process.GetCurrentProcess().Kill(); // SIGKILL: no handler runs, nothing more is flushed
            }
            never.Wait(); // until the test kills the process
            return 0;
        }
    }
}
