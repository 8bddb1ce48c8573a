using System;
using System.Threading;

namespace NLog.Targets.Firehose.Internal.Buffering
{
    /// <summary>One array of a <see cref="RecordSlab"/> and how many hold it (the slab while writing, and its records).</summary>
    internal sealed class SlabBytes
    {
        private readonly RecordSlab _slab;
        private int _references = 1;

        public SlabBytes(RecordSlab slab, byte[] array)
        {
            _slab = slab;
            Array = array;
        }

        public byte[] Array { get; }

        public void AddRef() => Interlocked.Increment(ref _references);

        public void Release()
        {
            int left = Interlocked.Decrement(ref _references);
            if (left == 0)
                _slab.Recycle(Array);
            else if (left < 0)
                throw new InvalidOperationException("A record array was released more often than it was taken.");
        }
    }
}
