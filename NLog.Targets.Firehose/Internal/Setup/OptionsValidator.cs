using System;
using NLog.Layouts;
using NLog.Targets.Firehose.Internal.Aws;

namespace NLog.Targets.Firehose.Internal.Setup
{
    /// <summary>The options' rules: a broken configuration fails <c>InitializeTarget</c> with an <see cref="NLogConfigurationException"/> that names the option.</summary>
    internal static class OptionsValidator
    {
        public static void Validate(FirehoseTarget target)
        {
            if (target.DeliveryStreamName is null || (target.DeliveryStreamName is SimpleLayout fixedName && fixedName.IsFixedText && string.IsNullOrWhiteSpace(fixedName.FixedText)))
                throw new NLogConfigurationException($"{target}: deliveryStreamName is required.");
            if (target.DeliveryStreamName is SimpleLayout name && name.IsFixedText && !FirehoseLimits.IsValidStreamName(name.FixedText))
                throw new NLogConfigurationException($"{target}: deliveryStreamName '{name.FixedText}' is not a valid delivery stream name (1-64 characters of a-z, A-Z, 0-9, '_', '.', '-').");
            if (target.Layout is null)
                throw new NLogConfigurationException($"{target}: layout is required.");
            if (target.MaxRecordsPerCall < 1 || target.MaxRecordsPerCall > FirehoseLimits.MaxRecordsPerCall)
                throw new NLogConfigurationException($"{target}: maxRecordsPerCall must be between 1 and {FirehoseLimits.MaxRecordsPerCall}, the most records one PutRecordBatch call takes; got {target.MaxRecordsPerCall}.");
            if (target.MaxQueueEvents < 1)
                throw new NLogConfigurationException($"{target}: maxQueueEvents must be at least 1; got {target.MaxQueueEvents}.");
            if (target.MaxConcurrentRequests < 1 || target.MaxConcurrentRequests > 64)
                throw new NLogConfigurationException($"{target}: maxConcurrentRequests must be between 1 and 64; got {target.MaxConcurrentRequests}.");
            if (target.RetryBackoffMilliseconds < 1)
                throw new NLogConfigurationException($"{target}: retryBackoffMilliseconds must be at least 1; got {target.RetryBackoffMilliseconds}.");
            if (target.RetryBackoffMaxMilliseconds < target.RetryBackoffMilliseconds)
                throw new NLogConfigurationException($"{target}: retryBackoffMaxMilliseconds ({target.RetryBackoffMaxMilliseconds}) must not be less than retryBackoffMilliseconds ({target.RetryBackoffMilliseconds}).");
            if (target.RetryTimeLimitSeconds < 0)
                throw new NLogConfigurationException($"{target}: retryTimeLimitSeconds must not be negative; got {target.RetryTimeLimitSeconds}.");
            if (target.RequestTimeoutSeconds < 1)
                throw new NLogConfigurationException($"{target}: requestTimeoutSeconds must be at least 1; got {target.RequestTimeoutSeconds}.");
            if (target.MaxQueueBytes < 1024 * 1024)
                throw new NLogConfigurationException($"{target}: maxQueueBytes must be at least 1048576 (1 MiB); got {target.MaxQueueBytes}.");
            if (target.RecordPacking && (target.PackedRecordBytes < 5120 || target.PackedRecordBytes > FirehoseLimits.MaxRecordBytes))
                throw new NLogConfigurationException($"{target}: packedRecordBytes must be between 5120 and {FirehoseLimits.MaxRecordBytes}; got {target.PackedRecordBytes}.");
            if (target.MaxRecordsPerSecond < 0)
                throw new NLogConfigurationException($"{target}: maxRecordsPerSecond must not be negative (0: no cap); got {target.MaxRecordsPerSecond}.");
            if (target.MaxBytesPerSecond < 0)
                throw new NLogConfigurationException($"{target}: maxBytesPerSecond must not be negative (0: no cap); got {target.MaxBytesPerSecond}.");
            if (target.Compression != RecordCompression.None && !target.RecordPacking)
                throw new NLogConfigurationException($"{target}: compression=\"{target.Compression}\" needs recordPacking=\"true\": each packed record is compressed on its own (one event per record would compress little and still be billed 5 KB).");
            if (target.Compression != RecordCompression.None && target.Compression != RecordCompression.GZip)
                throw new NLogConfigurationException($"{target}: compression must be None or GZip; got {(int)target.Compression}.");
            if (target.RecordPacking && !target.AppendNewLine)
                throw new NLogConfigurationException($"{target}: recordPacking needs appendNewLine=\"true\": the events of a packed record are separated by their line breaks.");
            if (double.IsNaN(target.BufferFlushInterval) || target.BufferFlushInterval < 0 || target.BufferFlushInterval > 60)
                throw new NLogConfigurationException($"{target}: bufferFlushInterval is in seconds and must be between 0 and 60; got {target.BufferFlushInterval}.");
            if (target.MaxBufferBytes < 16L * 1024 * 1024)
                throw new NLogConfigurationException($"{target}: maxBufferBytes must be at least 16777216 (16 MiB); got {target.MaxBufferBytes}.");
            if (target.LingerMilliseconds < 0 || target.LingerMilliseconds > 60_000)
                throw new NLogConfigurationException($"{target}: lingerMilliseconds must be between 0 and 60000; got {target.LingerMilliseconds}.");
            if (target.MaxPauseSeconds < 1)
                throw new NLogConfigurationException($"{target}: maxPauseSeconds must be at least 1; got {target.MaxPauseSeconds}.");
        }

        public static void ValidateRole(FirehoseTarget target, string? roleArn, string? externalId, string? roleSessionName)
        {
            if (roleArn is null)
            {
                if (externalId != null || roleSessionName != null)
                    throw new NLogConfigurationException($"{target}: externalId and roleSessionName need roleArn (the role to assume).");
                return;
            }
            if (!roleArn.StartsWith("arn:", StringComparison.Ordinal) || roleArn.IndexOf(":role/", StringComparison.Ordinal) < 0)
                throw new NLogConfigurationException($"{target}: roleArn '{roleArn}' is not the ARN of an IAM role (arn:aws:iam::123456789012:role/name).");
            if (roleSessionName != null && !IsValidSessionName(roleSessionName))
                throw new NLogConfigurationException($"{target}: roleSessionName '{roleSessionName}' must be 2-64 characters of a-z, A-Z, 0-9 and =,.@_-");
        }

        private static bool IsValidSessionName(string name)
        {
            if (name.Length < 2 || name.Length > 64)
                return false;
            foreach (char c in name)
            {
                if (!(c < 128 && (char.IsLetterOrDigit(c) || "+=,.@_-".IndexOf(c) >= 0)))
                    return false;
            }
            return true;
        }
    }
}
