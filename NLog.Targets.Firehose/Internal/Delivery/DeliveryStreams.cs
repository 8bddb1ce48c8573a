using System;
using System.Collections.Concurrent;
using System.Threading;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// Every delivery stream the pipeline has met, each with its one <see cref="DeliveryStream"/>: the breaker, the rate
    /// caps and the quota learner find a stream's state here instead of each keeping a dictionary of their own. Streams are
    /// few and never forgotten while the pipeline lives. Thread-safe; looking at every stream allocates nothing.
    /// </summary>
    internal sealed class DeliveryStreams
    {
        private readonly ConcurrentDictionary<string, DeliveryStream> _byName = new ConcurrentDictionary<string, DeliveryStream>(StringComparer.Ordinal);
        private readonly object _addLock = new object();
        private DeliveryStream[] _all = Array.Empty<DeliveryStream>();

        /// <summary>Every stream so far (a snapshot: a stream met meanwhile is in the next one).</summary>
        public DeliveryStream[] All => Volatile.Read(ref _all);

        /// <summary>The stream named <paramref name="name"/>, met now if not before.</summary>
        public DeliveryStream Of(string name)
        {
            if (_byName.TryGetValue(name, out var stream))
                return stream;
            lock (_addLock)
            {
                if (_byName.TryGetValue(name, out stream))
                    return stream;
                stream = new DeliveryStream(name);
                var all = new DeliveryStream[_all.Length + 1];
                _all.CopyTo(all, 0);
                all[all.Length - 1] = stream;
                Volatile.Write(ref _all, all);
                _byName[name] = stream;
                return stream;
            }
        }

        /// <summary>The stream named <paramref name="name"/> if it was met.</summary>
        public bool TryGet(string name, out DeliveryStream stream) => _byName.TryGetValue(name, out stream!);
    }
}
