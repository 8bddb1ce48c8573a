using System;
using System.Threading;
using NLog.Targets.Firehose.Internal.Aws;

namespace NLog.Targets.Firehose.Internal.Buffering
{
    /// <summary>One encoded record waiting for, or on its way to, Firehose.</summary>
    internal sealed class BufferedRecord : IWireRecord
    {
        /// <summary>
        /// Memory a record costs beyond its data, for the byte bound: this object (about 88 bytes on 64-bit .NET), the header
        /// of an array of its own once detached (24) and its slot in the buffer's deque (8), rounded up.
        /// </summary>
        public const int Overhead = 128;

        public BufferedRecord(string stream, byte[] data, int level, long sequence)
            : this(stream, new ReadOnlyMemory<byte>(data), level, sequence, owner: null)
        {
        }

        /// <summary>
        /// A record whose bytes may be part of a shared, pooled array: <paramref name="owner"/> (a <see cref="RecordSlab"/>'s),
        /// which the record holds a reference of until <see cref="Release"/> or <see cref="Detach"/>.
        /// </summary>
        public BufferedRecord(string stream, ReadOnlyMemory<byte> data, int level, long sequence, SlabBytes? owner, bool pooled = false)
        {
            Pooled = pooled;
            Stream = stream;
            Data = data;
            _owner = owner;
            Level = level;
            Sequence = sequence;
            Arrived = System.Diagnostics.Stopwatch.GetTimestamp();
        }

        /// <summary>When the record was made (<see cref="System.Diagnostics.Stopwatch"/> timestamp): calls wait for it to fill up from then.</summary>
        public long Arrived { get; }

        /// <summary>The delivery stream.</summary>
        public string Stream { get; }

        /// <summary>The record's bytes, as sent.</summary>
        public ReadOnlyMemory<byte> Data { get; private set; }

        /// <summary>Whether <see cref="Data"/> is a pooled array, returned when its one call is over (a packed record).</summary>
        public bool Pooled { get; }

        /// <summary>Whether <see cref="Data"/> is part of an array other records share (see <see cref="Detach"/>).</summary>
        public bool Shared => Volatile.Read(ref _owner) != null;

        private SlabBytes? _owner;

        /// <summary>The event's <see cref="LogLevel.Ordinal"/> (0 Trace … 5 Fatal).</summary>
        public int Level { get; }

        /// <summary>Arrival order (<see cref="RecordSequence"/>).</summary>
        public long Sequence { get; }

        /// <summary>
        /// The durable buffer's segment holding the record until it is done with; null in memory-only mode. Typed as
        /// <see cref="object"/> so that the buffer, which only carries it, does not depend on the journal above it.
        /// </summary>
        public object? Segment { get; private set; }

        /// <summary>The record's position in <see cref="Segment"/>.</summary>
        public int Index { get; private set; }

        /// <summary>The durable buffer wrote the record at <paramref name="index"/> of <paramref name="segment"/> (null: done with, acknowledged).</summary>
        public void InJournal(object? segment, int index)
        {
            Segment = segment;
            Index = index;
        }

        /// <summary>What the record counts against the byte bound.</summary>
        public long Cost => Data.Length + Overhead;

        /// <summary>
        /// Gives the record an array of its own, so a shared array is not kept alive by this record alone: the buffer does
        /// this for the records it keeps once it has to drop, so its bound holds in real memory.
        /// </summary>
        public void Detach()
        {
            if (!Shared)
                return;
            Data = Data.ToArray();
            Interlocked.Exchange(ref _owner, null)?.Release();
        }

        /// <summary>
        /// The record is done with (accepted, refused for good, dropped): its share of a pooled array goes back, and its data
        /// is gone, so that a record wrongly used afterwards shows as empty rather than as another event's bytes.
        /// </summary>
        public void Release()
        {
            var owner = Interlocked.Exchange(ref _owner, null);
            if (owner is null)
                return;
            Data = default;
            owner.Release();
        }

        /// <summary>Drop class: 0 Trace/Debug, 1 Info, 2 Warn and above. Lower classes are dropped first.</summary>
        public int DropClass => Level <= 1 ? 0 : Level == 2 ? 1 : 2;
    }
}
