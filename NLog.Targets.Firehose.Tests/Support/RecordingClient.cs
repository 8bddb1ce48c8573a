using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using NLog.Targets.Firehose.Internal.Aws;
using NSubstitute;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>
    /// A substituted <see cref="IFirehoseClient"/> that records every call's records and answers with
    /// <see cref="Respond"/> (default: everything accepted).
    /// </summary>
    internal sealed class RecordingClient
    {
        private readonly ConcurrentQueue<(string Stream, byte[][] Records)> _calls = new();
        private readonly List<(int Count, TaskCompletionSource<bool> Reached)> _callWaiters = new();

        public RecordingClient()
        {
            Client = Substitute.For<IFirehoseClient>();
            Client.PutRecordBatchAsync(default!, default!, default)
                .ReturnsForAnyArgs(call =>
                {
                    var records = ((IReadOnlyList<IWireRecord>)call[1]).Select(r => r.Data.ToArray()).ToArray();
                    int index;
                    lock (_calls)
                    {
                        index = _calls.Count;
                        _calls.Enqueue(((string)call[0], records));
                        foreach (var waiter in _callWaiters.Where(w => w.Count <= _calls.Count))
                            waiter.Reached.TrySetResult(true);
                    }
                    return Respond(index, records);
                });
        }

        /// <summary>Completes once <paramref name="count"/> calls were made (a signal to wait on instead of sleeping).</summary>
        public Task WhenCalls(int count)
        {
            var reached = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_calls)
            {
                if (_calls.Count >= count)
                    return Task.CompletedTask;
                _callWaiters.Add((count, reached));
            }
            return reached.Task;
        }

        public IFirehoseClient Client { get; }

        /// <summary>Answers call number <c>index</c> (0-based) with these records.</summary>
        public Func<int, byte[][], Task<PutRecordBatchResult>> Respond { get; set; } = (_, records) => Task.FromResult(PutRecordBatchResult.AllAccepted(records.Length));

        public IReadOnlyList<(string Stream, byte[][] Records)> Calls => _calls.ToArray();

        public IEnumerable<string> AllTexts => Calls.SelectMany(c => c.Records).Select(r => Encoding.UTF8.GetString(r));

        /// <summary>A 200 answer where the records at <paramref name="failedIndexes"/> failed with <paramref name="code"/>.</summary>
        public static PutRecordBatchResult PartialFailure(int count, IEnumerable<int> failedIndexes, string code = "ServiceUnavailableException")
        {
            var codes = new string?[count];
            var messages = new string?[count];
            int failed = 0;
            foreach (int i in failedIndexes)
            {
                codes[i] = code;
                messages[i] = "Slow down.";
                failed++;
            }
            return new PutRecordBatchResult(failed, codes, messages);
        }
    }

    /// <summary>Builds a <see cref="LogFactory"/> around one <see cref="FirehoseTarget"/>.</summary>
    internal static class Harness
    {
        /// <summary>A target wired to <paramref name="client"/> whose retry waits are recorded instead of slept.</summary>
        public static FirehoseTarget Target(RecordingClient client, List<TimeSpan>? delays = null, string stream = "app-logs")
        {
            var recorded = delays ?? new List<TimeSpan>();
            return new FirehoseTarget
            {
                Name = "fh",
                DeliveryStreamName = stream,
                Region = "us-east-1",
                Seams =
                {
                    ClientFactory = _ => client.Client,
                    PauseBase = TimeSpan.FromMilliseconds(10),
                    Delay = (delay, token) =>
                    {
                        lock (recorded)
                            recorded.Add(delay);
                        return Task.CompletedTask;
                    },
                },
            };
        }

        /// <summary>
        /// Flushes and asserts the flush completed by itself: <c>LogFactory.Flush(TimeSpan)</c> returns quietly when its
        /// timeout passes, so a flush that hangs until then would look like one that returned.
        /// </summary>
        public static void FlushCompletes(LogFactory factory, TimeSpan timeout)
        {
            var done = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            factory.Flush(ex => done.TrySetResult(ex), timeout);
            Microsoft.VisualStudio.TestTools.UnitTesting.Assert.IsTrue(done.Task.Wait(timeout + TimeSpan.FromSeconds(30)), "the flush never called back");
            Microsoft.VisualStudio.TestTools.UnitTesting.Assert.IsNull(done.Task.Result,
                $"the flush did not complete by itself; after {clock.Elapsed.TotalSeconds:0.0} s it ended with: {done.Task.Result}");
        }

        public static LogFactory Factory(Targets.Target target)
        {
            var factory = new LogFactory();
            factory.Setup().LoadConfiguration(c => c.ForLogger().WriteTo(target));
            return factory;
        }
    }
}
