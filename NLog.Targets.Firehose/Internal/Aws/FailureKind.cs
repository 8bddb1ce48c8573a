namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>How the target reacts to a failed call or record.</summary>
    internal enum FailureKind
    {
        /// <summary>Throttling: retry with backoff.</summary>
        Throttled,

        /// <summary>Transient service or network fault: retry with backoff.</summary>
        Transient,

        /// <summary>The request's clock is off (a code that says nothing else): correct the offset, re-sign, retry once.</summary>
        ClockSkew,

        /// <summary>Credentials expired or not recognised: refresh once, then fail.</summary>
        Credentials,

        /// <summary>Retrying will not help (missing stream, bad argument, access denied, KMS): fail the batch.</summary>
        Permanent,
    }
}
