using System;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>
    /// Events the target could not deliver: the exception that reaches NLog's failure path (and so a
    /// <c>FallbackGroup</c>).
    /// </summary>
    internal sealed class FirehoseDeliveryException : Exception
    {
        public FirehoseDeliveryException(string message, string? errorCode, Exception? inner = null)
            : base(message, inner)
        {
            ErrorCode = errorCode;
        }

        /// <summary>The last error code seen, if any.</summary>
        public string? ErrorCode { get; }
    }
}
