namespace NLog.Targets.Firehose
{
    /// <summary>How packed records are compressed before they are sent (<see cref="FirehoseTarget.Compression"/>).</summary>
    public enum RecordCompression
    {
        /// <summary>Records go as they are.</summary>
        None,

        /// <summary>
        /// Every packed record is one complete gzip member (RFC 1952), so the S3 object Firehose writes — its records
        /// concatenated — is a valid multi-member gzip file of newline-delimited events. Only with record packing, and
        /// only for S3 destinations whose own compression is off.
        /// </summary>
        GZip,
    }
}
