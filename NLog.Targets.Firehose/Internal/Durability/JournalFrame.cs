using System;
using System.IO;
using System.Text;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Internal.Durability
{
    /// <summary>
    /// The on-disk format of the durable buffer. A segment file (<c>.seg</c>) is a run of frames: magic <c>FHB1</c> (4
    /// bytes), payload length (4), CRC-32 of the payload (4), then the payload: level (1), stream name length (2), stream
    /// name (UTF-8), the record's bytes. An acknowledgement file (<c>.ack</c>) is a run of 4-byte record indexes. All
    /// integers little-endian.
    /// </summary>
    internal static class JournalFrame
    {
        internal const uint Magic = 0x31424846; // "FHB1"
        private const int FrameHeader = 12;
        private const int MaxPayload = FirehoseLimits.MaxRecordBytes + 1 + 2 + 256;

        public static int Write(Stream stream, BufferedRecord record)
        {
            byte[] name = Encoding.UTF8.GetBytes(record.Stream);
            int payload = 1 + 2 + name.Length + record.Data.Length;
            var frame = new byte[FrameHeader + payload];
            WriteUInt(frame, 0, Magic);
            WriteUInt(frame, 4, (uint)payload);
            frame[12] = (byte)record.Level;
            frame[13] = (byte)(name.Length & 0xFF);
            frame[14] = (byte)(name.Length >> 8);
            Buffer.BlockCopy(name, 0, frame, 15, name.Length);
            record.Data.Span.CopyTo(new Span<byte>(frame, 15 + name.Length, record.Data.Length));
            WriteUInt(frame, 8, System.IO.Hashing.Crc32.HashToUInt32(new ReadOnlySpan<byte>(frame, FrameHeader, payload)));
            stream.Write(frame, 0, frame.Length);
            return frame.Length;
        }

        /// <summary>Whether <paramref name="content"/> starts with the magic of a later format (<c>FHB2</c> and on).</summary>
        public static bool IsNewerFormat(byte[] content) =>
            content.Length >= 4 && content[0] == (byte)'F' && content[1] == (byte)'H' && content[2] == (byte)'B' && content[3] > (byte)'1' && content[3] <= (byte)'9';

        /// <summary>Reads one frame; false (offset at the bad frame) when what follows is not a whole, intact frame.</summary>
        public static bool TryRead(byte[] content, ref int offset, out int level, out string? stream, out byte[]? data)
        {
            level = 0;
            stream = null;
            data = null;
            if (content.Length - offset < FrameHeader || ReadUInt(content, offset) != Magic)
                return false;
            uint payload = ReadUInt(content, offset + 4);
            if (payload < 3 || payload > MaxPayload || payload > content.Length - offset - FrameHeader)
                return false;
            var span = new ReadOnlySpan<byte>(content, offset + FrameHeader, (int)payload);
            if (System.IO.Hashing.Crc32.HashToUInt32(span) != ReadUInt(content, offset + 8))
                return false;
            int nameLength = span[1] | (span[2] << 8);
            if (3 + nameLength > payload)
                return false;
            level = span[0];
            stream = Encoding.UTF8.GetString(content, offset + FrameHeader + 3, nameLength);
            data = span.Slice(3 + nameLength).ToArray();
            offset += FrameHeader + (int)payload;
            return true;
        }

        public static void WriteInt(Stream stream, int value)
        {
            var bytes = new byte[4];
            WriteUInt(bytes, 0, (uint)value);
            stream.Write(bytes, 0, 4);
        }

        private static void WriteUInt(byte[] buffer, int offset, uint value)
        {
            buffer[offset] = (byte)value;
            buffer[offset + 1] = (byte)(value >> 8);
            buffer[offset + 2] = (byte)(value >> 16);
            buffer[offset + 3] = (byte)(value >> 24);
        }

        private static uint ReadUInt(byte[] buffer, int offset)
            => (uint)(buffer[offset] | (buffer[offset + 1] << 8) | (buffer[offset + 2] << 16) | (buffer[offset + 3] << 24));
    }
}
