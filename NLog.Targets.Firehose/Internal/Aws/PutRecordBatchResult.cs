namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>The outcome of a PutRecordBatch call that returned 200.</summary>
    internal sealed class PutRecordBatchResult
    {
        /// <summary>A result where every record was accepted.</summary>
        public static PutRecordBatchResult AllAccepted(int count) => new PutRecordBatchResult(0, new string?[count], new string?[count]);

        public PutRecordBatchResult(int failedPutCount, string?[] errorCodes, string?[] errorMessages)
        {
            FailedPutCount = failedPutCount;
            ErrorCodes = errorCodes;
            ErrorMessages = errorMessages;
        }

        /// <summary>How many records the service did not accept.</summary>
        public int FailedPutCount { get; }

        /// <summary>One entry per request record, in request order: null where accepted, else the error code.</summary>
        public string?[] ErrorCodes { get; }

        /// <summary>One entry per request record: the error message where it failed.</summary>
        public string?[] ErrorMessages { get; }
    }
}
