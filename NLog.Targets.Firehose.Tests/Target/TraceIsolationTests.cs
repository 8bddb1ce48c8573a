using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// The application's traces stay the application's: events logged inside an active <see cref="Activity"/>, with a
    /// listener that samples everything (as OpenTelemetry's HttpClient instrumentation does), make no HTTP span and carry
    /// no trace header to Firehose (the net8.0 build; the netstandard2.0 one keeps the calls out of the application's traces).
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class TraceIsolationTests
    {
        [TestMethod]
        public async Task LoggingInsideAnActivity_NoHttpSpanAndNoTraceHeaderReachFirehose()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var started = new ConcurrentQueue<Activity>();
            using var source = new ActivitySource("App.Requests");
            using var listener = new ActivityListener
            {
                ShouldListenTo = _ => true,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStarted = started.Enqueue,
            };
            ActivitySource.AddActivityListener(listener);
            var target = StandInHarness.Target(standIn);
            using (var factory = Harness.Factory(target))
            {
                var logger = factory.GetLogger("Traced");
                for (int i = 0; i < 20; i++)
                {
                    using var request = source.StartActivity("GET /orders");
                    Assert.IsNotNull(request, "the listener samples the application's activity");
                    logger.Info("event {Seq}", i);
                    if (i % 5 == 4)
                        factory.Flush(); // calls made while the application's activity is current
                }
                factory.Flush();
            }

            Assert.AreEqual(string.Empty, StandInHarness.ExactlyOnceReport(StandInHarness.SequenceCounts(standIn, "app-logs"), 20));
            Assert.IsTrue(standIn.Requests > 0);
            // The stand-in runs in this process: its server side (ASP.NET Core's own activity) is not the target's doing.
            var ours = started.Where(a => a.Source.Name != "App.Requests" && !a.Source.Name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)).ToArray();
            var appTraces = started.Where(a => a.Source.Name == "App.Requests").Select(a => a.TraceId).ToHashSet();
            Assert.AreEqual(20, appTraces.Count);
            var inAppTraces = ours.Where(a => appTraces.Contains(a.TraceId)).Select(Describe).ToArray();
            Assert.AreEqual(0, inAppTraces.Length, "spans of the target's calls in the application's traces: " + string.Join(", ", inAppTraces));
            if (!FirehoseHttpClientTests.LibraryIsNet8Build())
                return; // netstandard2.0: HttpClientHandler has no switch for the runtime's own span (a root of its own) and headers
            // No request span at all; .NET 9+ may still report a connection's set-up (an experimental source, a root of
            // its own, a few per connection lifetime) to an application that listens to it.
            var requestSpans = ours.Where(a => !a.Source.Name.StartsWith("Experimental.", StringComparison.Ordinal)).Select(Describe).ToArray();
            Assert.AreEqual(0, requestSpans.Length, "request spans of the target's calls: " + string.Join(", ", requestSpans));
            Assert.AreEqual(0, standIn.TraceHeadersSeen.Count, "trace headers at Firehose: " + string.Join(", ", standIn.TraceHeadersSeen.Distinct()));
        }

        private static string Describe(Activity activity) => $"{activity.Source.Name}/{activity.OperationName}";
    }
}
