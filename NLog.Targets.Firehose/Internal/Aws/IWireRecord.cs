using System;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>
    /// What the wire format reads of a record: its bytes. The buffer's records implement it, so a call is sent without
    /// copying them into another list and without this folder knowing the buffer.
    /// </summary>
    internal interface IWireRecord
    {
        /// <summary>The record's bytes, as sent.</summary>
        ReadOnlyMemory<byte> Data { get; }
    }
}
