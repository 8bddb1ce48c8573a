using System;
using System.Collections;
using System.Collections.Generic;

namespace NLog.Targets.Firehose.Internal.Buffering
{
    /// <summary>
    /// A double-ended queue of records on a circular array: adding at either end and taking from the front allocate
    /// nothing per record (a linked list allocates a node per record, which the garbage collector then has to trace).
    /// Not thread-safe: <see cref="MemoryRecordBuffer"/> guards it.
    /// </summary>
    internal sealed class RecordDeque : IEnumerable<BufferedRecord>
    {
        private BufferedRecord[] _items = new BufferedRecord[16];
        private int _head;
        private int _count;

        public int Count => _count;

        /// <summary>The records' data bytes, together.</summary>
        public long DataBytes { get; private set; }

        /// <summary>The front record, or null when empty.</summary>
        public BufferedRecord? First => _count == 0 ? null : _items[_head];

        public void AddLast(BufferedRecord record)
        {
            if (_count == _items.Length)
                Grow();
            DataBytes += record.Data.Length;
            _items[(_head + _count) % _items.Length] = record;
            _count++;
        }

        public void AddFirst(BufferedRecord record)
        {
            if (_count == _items.Length)
                Grow();
            DataBytes += record.Data.Length;
            _head = (_head - 1 + _items.Length) % _items.Length;
            _items[_head] = record;
            _count++;
        }

        public void RemoveFirst()
        {
            if (_count == 0)
                throw new InvalidOperationException("The queue is empty.");
            DataBytes -= _items[_head].Data.Length;
            _items[_head] = null!;
            _head = (_head + 1) % _items.Length;
            _count--;
        }

        public void Clear()
        {
            Array.Clear(_items, 0, _items.Length);
            DataBytes = 0;
            _head = 0;
            _count = 0;
        }

        public IEnumerator<BufferedRecord> GetEnumerator()
        {
            for (int i = 0; i < _count; i++)
                yield return _items[(_head + i) % _items.Length];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        private void Grow()
        {
            var larger = new BufferedRecord[_items.Length * 2];
            for (int i = 0; i < _count; i++)
                larger[i] = _items[(_head + i) % _items.Length];
            _items = larger;
            _head = 0;
        }
    }
}
