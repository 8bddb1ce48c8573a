namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>Maps Firehose error codes and HTTP status codes to a <see cref="FailureKind"/>.</summary>
    internal static class ErrorClassifier
    {
        /// <summary>
        /// Cleans an error code as AWS's protocols send it: drops a namespace before '#' and anything after ':'
        /// (for example <c>aws.protocoltests#ThrottlingException:http://…</c> → <c>ThrottlingException</c>).
        /// </summary>
        public static string? SanitizeErrorCode(string? raw)
        {
            if (string.IsNullOrWhiteSpace(raw))
                return null;
            string code = raw!.Trim();
            int hash = code.LastIndexOf('#');
            if (hash >= 0)
                code = code.Substring(hash + 1);
            int colon = code.IndexOf(':');
            if (colon >= 0)
                code = code.Substring(0, colon);
            code = code.Trim();
            return code.Length == 0 ? null : code;
        }

        /// <summary>Classifies a whole-call failure from its HTTP status and error code.</summary>
        public static FailureKind ClassifyCall(int statusCode, string? errorCode)
        {
            if (errorCode != null)
            {
                if (IsThrottling(errorCode))
                    return FailureKind.Throttled;
                if (IsClockSkew(errorCode))
                    return FailureKind.ClockSkew;
                if (IsCredentials(errorCode))
                    return FailureKind.Credentials;
                if (IsTransient(errorCode))
                    return FailureKind.Transient;
            }

            if (statusCode == 429)
                return FailureKind.Throttled;
            if (statusCode >= 500 || statusCode == 408)
                return FailureKind.Transient;
            return FailureKind.Permanent;
        }

        /// <summary>Classifies one failed record of a 200 response (<c>FailedPutCount</c> &gt; 0).</summary>
        public static FailureKind ClassifyRecord(string? errorCode)
        {
            if (errorCode is null || IsThrottling(errorCode))
                return FailureKind.Throttled;
            if (IsTransient(errorCode))
                return FailureKind.Transient;
            return FailureKind.Permanent;
        }

        private static bool IsThrottling(string code) => code switch
        {
            "ServiceUnavailableException" or "ThrottlingException" or "Throttling" or "ThrottledException"
                or "RequestThrottledException" or "TooManyRequestsException" or "ProvisionedThroughputExceededException"
                or "TransactionInProgressException" or "RequestLimitExceeded" or "BandwidthLimitExceeded"
                or "LimitExceededException" or "RequestThrottled" or "SlowDown" or "PriorRequestNotComplete"
                or "EC2ThrottledException" or "KMS.ThrottlingException" => true,
            _ => false,
        };

        private static bool IsTransient(string code) => code switch
        {
            "InternalFailure" or "InternalFailureException" or "InternalServerError" or "InternalError"
                or "ServiceUnavailable" or "RequestTimeout" or "RequestTimeoutException" => true,
            _ => false,
        };

        /// <summary>A code that says nothing but a skewed clock (<see cref="ClockSkew"/> corrects it whenever the server's time is known).</summary>
        internal static bool IsClockSkew(string code) => code switch
        {
            "RequestTimeTooSkewed" or "RequestExpired" or "RequestInTheFuture" => true,
            _ => false,
        };

        // A refused signature with the clock in step (ClockSkew corrects it otherwise) is a wrong or rotated key.
        private static bool IsCredentials(string code) => code switch
        {
            "InvalidSignatureException" or "SignatureDoesNotMatch" or "AuthFailure" or "ExpiredTokenException" or "ExpiredToken" or "UnrecognizedClientException" or "InvalidClientTokenId"
                or "InvalidAccessKeyId" or "TokenRefreshRequired" => true,
            _ => false,
        };
    }
}
