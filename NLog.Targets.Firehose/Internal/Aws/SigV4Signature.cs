namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>The headers a SigV4 signature adds to a request.</summary>
    internal readonly struct SigV4Signature
    {
        public SigV4Signature(string amzDate, string payloadHash, string? securityToken, string authorization)
        {
            AmzDate = amzDate;
            PayloadHash = payloadHash;
            SecurityToken = securityToken;
            Authorization = authorization;
        }

        /// <summary><c>X-Amz-Date</c>.</summary>
        public string AmzDate { get; }

        /// <summary><c>X-Amz-Content-SHA256</c>.</summary>
        public string PayloadHash { get; }

        /// <summary><c>X-Amz-Security-Token</c>; null with long-term credentials.</summary>
        public string? SecurityToken { get; }

        /// <summary><c>Authorization</c>.</summary>
        public string Authorization { get; }
    }
}
