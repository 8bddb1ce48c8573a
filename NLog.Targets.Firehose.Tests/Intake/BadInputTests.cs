using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Config;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>Bad input never hurts the application: nothing escapes to the caller, nothing stalls, what was altered is counted.</summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class BadInputTests
    {
        [TestMethod]
        [DataRow(false, DisplayName = "default layout (rendered by NLog on the logging thread)")]
        [DataRow(true, DisplayName = "thread-agnostic layout (rendered by the target)")]
        public async Task EveryKindOfBadInput_NothingEscapesEveryRecordValidAndTheTargetKeepsDelivering(bool threadAgnostic)
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var target = StandInHarness.Target(standIn);
            if (threadAgnostic)
            {
                var layout = new NLog.Layouts.JsonLayout { IncludeEventProperties = true, MaxRecursionLimit = 2 };
                layout.Attributes.Add(new NLog.Layouts.JsonAttribute("logger", "${logger}"));
                layout.Attributes.Add(new NLog.Layouts.JsonAttribute("message", "${message}"));
                layout.Attributes.Add(new NLog.Layouts.JsonAttribute("exception", "${exception:format=toString}"));
                target.Layout = layout;
            }
            using var capture = new InternalLogCapture(LogLevel.Warn);
            var badInputs = new (string Name, Action<Logger> Log)[]
            {
                ("throwing ToString", l => l.Warn("bad {Value}", new ThrowingToString())),
                ("ToString returns null", l => l.Warn("bad {Value}", new NullToString())),
                ("lone surrogates", l => l.Warn("bad \uD800 message {Value}", "value \uDC00")),
                ("10 MiB message", l => l.Warn(new string('m', 10 * 1024 * 1024))),
                ("10 MiB property", l => l.Warn("bad {Value}", new string('p', 10 * 1024 * 1024))),
                ("deep inner-exception chain", l => l.Error(DeepChain(2000), "bad")),
                ("huge stack trace", l => l.Error(ThrowFromDepth(3000), "bad")),
                ("null message", l => l.Warn((string)null!)),
                ("null message with arguments", l => l.Warn((string)null!, 1, 2)),
                ("missing format arguments", l => l.Warn("bad {0} {1} {2}", 1)),
                ("missing template arguments", l => l.Warn("bad {A} {B}")),
                ("unbalanced braces", l => l.Warn("bad {0 } { {Value", 1)),
                ("huge alignment", l => l.Warn("bad {0,99999999}", 1)),
                ("cyclic object", l => l.Warn("bad {@Value}", Cyclic.Create())),
                ("control characters", l => l.Warn("bad \0\u0001\u001f\u007f {Value}", "\u2028\u2029")),
            };

            using (var factory = Harness.Factory(target))
            {
                factory.ThrowExceptions = true; // NLog would otherwise swallow what the target throws, and this test could not fail
                var logger = factory.GetLogger("Bad");
                for (int i = 0; i < badInputs.Length; i++)
                {
                    try
                    {
                        badInputs[i].Log(logger);
                    }
                    catch (Exception ex)
                    {
                        Assert.Fail($"'{badInputs[i].Name}' escaped to the caller: {ex}");
                    }
                    logger.Info("good {Seq}", i);
                }
                factory.Flush();
            }

            var records = standIn.Records("app-logs");
            foreach (var record in records)
            {
                Assert.IsTrue(record.Length <= FirehoseLimits.MaxRecordBytes, $"record of {record.Length} bytes");
                Assert.AreEqual((byte)'\n', record[^1]);
                using var json = JsonDocument.Parse(record); // valid JSON, valid UTF-8
                foreach (var property in json.RootElement.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.String)
                        property.Value.GetString(); // throws on an escaped lone surrogate
                }
            }
            var good = records.Select(r => JsonDocument.Parse(r).RootElement).Where(r => r.TryGetProperty("Seq", out _)).Select(r => r.GetProperty("Seq").GetInt32()).OrderBy(n => n).ToList();
            CollectionAssert.AreEqual(Enumerable.Range(0, badInputs.Length).ToList(), good, "every good event after a bad one arrived, once");
            int badDelivered = records.Count - badInputs.Length;
            Assert.AreEqual(badInputs.Length, badDelivered + target.Statistics.DroppedEvents, "every bad event is either sent or counted as left out");
            Assert.IsTrue(target.Statistics.TruncatedEvents >= 2, $"the 10 MiB events were truncated: {target.Statistics.TruncatedEvents}");
            Assert.IsTrue(target.Statistics.RepairedEvents >= 1, "the lone surrogates were replaced and counted");
            StringAssert.Contains(capture.Text, "truncated");
            StringAssert.Contains(capture.Text, "lone surrogates");
        }

        [TestMethod]
        public async Task SixtyFourThreadsLogWhileTheConfigurationReloads_NoExceptionNoDeadlockAndDeliveryGoesOn()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.Faults.FailedRecordRate = 0.1;
            using var factory = new LogFactory { ThrowExceptions = true }; // nothing the target throws is swallowed by NLog
            LoggingConfiguration NewConfiguration()
            {
                var configuration = new LoggingConfiguration(factory);
                var target = StandInHarness.Target(standIn);
                target.Seams.CloseDrain = TimeSpan.FromMilliseconds(200);
                configuration.AddRuleForAllLevels(target);
                return configuration;
            }
            factory.Configuration = NewConfiguration();
            var errors = new ConcurrentQueue<Exception>();
            using var stop = new CancellationTokenSource();
            long logged = 0;

            var threads = Enumerable.Range(0, 64).Select(t => new Thread(() =>
            {
                var logger = factory.GetLogger("Thread" + t);
                for (int i = 0; i < 500 && !stop.IsCancellationRequested; i++)
                {
                    if (i % 10 == 0)
                        Thread.Yield(); // 64 threads on a small machine: let the reloads in
                    try
                    {
                        logger.Info("busy {Thread} {N}", t, Interlocked.Increment(ref logged));
                    }
                    catch (Exception ex)
                    {
                        errors.Enqueue(ex);
                    }
                }
            })
            { IsBackground = true }).ToList();
            threads.ForEach(t => t.Start());
            for (int reload = 0; reload < 10; reload++)
            {
                SpinWait.SpinUntil(() => Interlocked.Read(ref logged) > (reload + 1) * 3000, TimeSpan.FromSeconds(10));
                factory.Configuration = NewConfiguration();
            }
            bool finished = threads.All(t => t.Join(TimeSpan.FromSeconds(60)));
            stop.Cancel();
            Assert.IsTrue(finished, "a logging thread is stuck");

            var logger = factory.GetLogger("After");
            for (int i = 0; i < 100; i++)
                logger.Info("after {Seq}", i);
            Assert.IsTrue(Task.Run(() => factory.Flush(TimeSpan.FromSeconds(30))).Wait(TimeSpan.FromSeconds(60)), "flush is stuck");

            Assert.IsTrue(errors.IsEmpty, string.Join("\n", errors.Take(3)));
            Assert.AreEqual(64 * 500, Interlocked.Read(ref logged));
            var after = standIn.Records("app-logs").Select(r => JsonDocument.Parse(r).RootElement).Where(r => r.GetProperty("logger").GetString() == "After").ToList();
            Assert.AreEqual(100, after.Select(r => r.GetProperty("Seq").GetInt32()).Distinct().Count(), "delivery goes on after the reloads");
        }

        private static Exception DeepChain(int depth)
        {
            Exception ex = new InvalidOperationException("innermost");
            for (int i = 0; i < depth; i++)
                ex = new InvalidOperationException("level " + i, ex);
            return ex;
        }

        private static Exception ThrowFromDepth(int depth)
        {
            try
            {
                Recurse(depth);
            }
            catch (Exception ex)
            {
                return ex;
            }
            throw new InvalidOperationException("unreachable");
        }

        private static int Recurse(int depth) => depth == 0 ? throw new InvalidOperationException("deep") : Recurse(depth - 1) + 1;

        private sealed class ThrowingToString
        {
            public override string ToString() => throw new InvalidOperationException("ToString failed");
        }

        private sealed class NullToString
        {
            public override string ToString() => null!;
        }

        private sealed class Cyclic
        {
            public string Name { get; set; } = "node";

            public Cyclic? Next { get; set; }

            public static Cyclic Create()
            {
                var node = new Cyclic();
                node.Next = node;
                return node;
            }
        }
    }
}
