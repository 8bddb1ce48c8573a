using System;

namespace NLog.Targets.Firehose.Internal
{
    /// <summary>
    /// Memory that events are encoded into, reused from one event to the next: a StringBuilder the event is rendered into, a char
    /// buffer the text is copied to (and repaired in place), and 64 KiB byte arrays that small records are written into one after another, so
    /// an event costs no <c>byte[]</c> of its own. A full array is left to the records in it (the garbage collector takes
    /// it when the last of them is done) and a new one started. One user at a time.
    /// </summary>
    internal sealed class RecordSlab
    {
        /// <summary>The size of a slab: below the large object heap's 85,000 bytes.</summary>
        public const int Size = 64 * 1024;

        /// <summary>Texts up to this many chars go into a slab (at most 3 UTF-8 bytes a char); longer ones get an array of their own.</summary>
        public const int MaxChars = 4 * 1024;

        /// <summary>Char buffers above this size are not kept between events.</summary>
        private const int KeepChars = 256 * 1024;

        private char[] _chars = new char[2048];
        private System.Text.StringBuilder _text = new System.Text.StringBuilder(2048);
        private byte[] _bytes = new byte[Size];
        private int _used;

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
                _bytes = new byte[Size];
                _used = 0;
            }
            offset = _used;
            return _bytes;
        }

        /// <summary>Marks <paramref name="bytes"/> of the reserved room as used.</summary>
        public void Commit(int bytes) => _used += bytes;
    }
}
