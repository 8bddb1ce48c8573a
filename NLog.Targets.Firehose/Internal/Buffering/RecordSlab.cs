using System;
using System.Threading;

namespace NLog.Targets.Firehose.Internal.Buffering
{
    /// <summary>
    /// Memory that events are encoded into, reused from one event to the next: a StringBuilder the event is rendered into, a char
    /// buffer the text is copied to (and repaired in place), and 64 KiB byte arrays that small records are written into
    /// one after another, so an event costs no <c>byte[]</c> of its own. Each array counts its users (<see cref="SlabBytes"/>):
    /// the slab while it writes into it, and every record in it until the record is released; at zero the array goes
    /// back to a small pool of free arrays, so arrays are reused across batches. One writer at a time; releases come from
    /// any thread.
    /// </summary>
    internal sealed class RecordSlab
    {
        /// <summary>The size of a slab: below the large object heap's 85,000 bytes.</summary>
        public const int Size = 64 * 1024;

        /// <summary>Texts up to this many chars go into a slab (at most 3 UTF-8 bytes a char); longer ones get an array of their own.</summary>
        public const int MaxChars = 4 * 1024;

        /// <summary>Char buffers above this size are not kept between events.</summary>
        private const int KeepChars = 256 * 1024;

        /// <summary>Free arrays kept for reuse: up to 4 MiB.</summary>
        private const int MaxFree = 64;

        private readonly System.Collections.Concurrent.ConcurrentQueue<byte[]> _free = new System.Collections.Concurrent.ConcurrentQueue<byte[]>();
        private int _freeCount;
        private SlabBytes? _committed;
        private char[] _chars = new char[2048];
        private System.Text.StringBuilder _text = new System.Text.StringBuilder(2048);
        private SlabBytes _current;
        private int _used;

        public RecordSlab()
        {
            _current = new SlabBytes(this, new byte[Size]);
        }

        /// <summary>An empty StringBuilder to render an event into.</summary>
        public System.Text.StringBuilder Text()
        {
            if (_text.Capacity > KeepChars)
                _text = new System.Text.StringBuilder(2048);
            _text.Clear();
            return _text;
        }

        /// <summary>A char buffer of at least <paramref name="length"/> chars.</summary>
        public char[] Chars(int length)
        {
            if (length <= _chars.Length)
                return _chars;
            var chars = new char[Math.Max(length, _chars.Length * 2)];
            if (chars.Length <= KeepChars)
                _chars = chars;
            return chars;
        }

        /// <summary>Room for <paramref name="maxBytes"/> (at most <see cref="Size"/>): the array and where the room starts.</summary>
        public byte[] Reserve(int maxBytes, out int offset)
        {
            if (Size - _used < maxBytes)
            {
                _current.Release(); // the slab's own reference: the array goes back once its records are done
                _current = new SlabBytes(this, Rent());
                _used = 0;
            }
            offset = _used;
            return _current.Array;
        }

        /// <summary>Marks <paramref name="bytes"/> of the reserved room as used by one record; <see cref="TakeCommitted"/> hands over its reference.</summary>
        public void Commit(int bytes)
        {
            _used += bytes;
            _current.AddRef();
            // A reference nobody took is never released: that array is left to the garbage collector rather than reused
            // while someone might still read it.
            _committed = _current;
        }

        /// <summary>The array the last committed record lives in, with that record's reference (null when it is not in a slab).</summary>
        public SlabBytes? TakeCommitted()
        {
            var committed = _committed;
            _committed = null;
            return committed;
        }

        /// <summary>How many arrays wait in the pool (tests).</summary>
        internal int FreeArrays => Volatile.Read(ref _freeCount);

        internal void Recycle(byte[] array)
        {
            if (array.Length != Size)
                return;
            if (Interlocked.Increment(ref _freeCount) <= MaxFree)
            {
                _free.Enqueue(array);
                return;
            }
            Interlocked.Decrement(ref _freeCount); // enough kept: the garbage collector takes this one
        }

        private byte[] Rent()
        {
            if (_free.TryDequeue(out var array))
            {
                Interlocked.Decrement(ref _freeCount);
                return array;
            }
            return new byte[Size];
        }
    }
}

namespace NLog.Targets.Firehose.Internal.Buffering
{
}
