namespace NLog.Targets.Firehose.Internal.Intake
{
    /// <summary>What <see cref="RecordEncoder"/> did to an event.</summary>
    internal enum EncodeOutcome
    {
        /// <summary>Encoded as rendered.</summary>
        Encoded,

        /// <summary>Too large: shortened to fit.</summary>
        Truncated,

        /// <summary>Too large: left out.</summary>
        Dropped,
    }
}
