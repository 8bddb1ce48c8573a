namespace NLog.Targets.Firehose
{
    /// <summary>
    /// What the target does with new events for a delivery stream that failed with an error retrying does not cure
    /// (missing stream, access denied, refused credentials, KMS errors), while that error lasts.
    /// </summary>
    public enum PersistentErrorAction
    {
        /// <summary>
        /// Keep them in the buffer (within its bounds) and send them once a call succeeds: nothing is lost when the
        /// problem is fixed within the bounds.
        /// </summary>
        Keep,

        /// <summary>
        /// Hand them to NLog's failure path at once, so a <c>FallbackGroup</c> wrapper writes them to its next target.
        /// Events taken before the error was known stay in the buffer and are sent once a call succeeds.
        /// </summary>
        Fail,
    }
}
