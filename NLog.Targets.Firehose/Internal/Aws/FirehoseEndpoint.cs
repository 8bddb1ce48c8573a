using System;
using System.Text.RegularExpressions;
using Amazon;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>Where calls go and which region signs them.</summary>
    internal sealed class FirehoseEndpoint
    {
        private static readonly Regex RegionInHost = new Regex(@"^firehose(?:-fips)?\.([a-z0-9-]+)\.", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

        public FirehoseEndpoint(Uri serviceUri, string signingRegion, bool isConfigured)
        {
            ServiceUri = serviceUri;
            SigningRegion = signingRegion;
            IsConfigured = isConfigured;
        }

        /// <summary>The URL the POST goes to.</summary>
        public Uri ServiceUri { get; }

        /// <summary>The region in the SigV4 credential scope.</summary>
        public string SigningRegion { get; }

        /// <summary>True when the URL came from <c>serviceUrl</c> or an <c>AWS_ENDPOINT_URL*</c> variable.</summary>
        public bool IsConfigured { get; }

        /// <summary>
        /// Resolves the endpoint the way the AWS SDKs do. Region: the <c>region</c> option, else the profile's region,
        /// else <c>AWS_REGION</c>, else <c>AWS_DEFAULT_REGION</c>, else (only when no endpoint is configured) the SDK's
        /// fallback chain. Endpoint: <c>serviceUrl</c>, else <c>AWS_ENDPOINT_URL_FIREHOSE</c>, else <c>AWS_ENDPOINT_URL</c>
        /// (both ignored when <c>AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true</c>), else
        /// <c>https://firehose[-fips].{region}.{partition DNS suffix}</c>.
        /// </summary>
        /// <exception cref="NLogConfigurationException">No region and no endpoint, or a malformed URL.</exception>
        public static FirehoseEndpoint Resolve(string? serviceUrl, string? region, string? profileRegion, bool useFips,
            Func<string, string?> getEnvironmentVariable, Func<string?> sdkFallbackRegion)
        {
            string? configuredUrl = NullIfEmpty(serviceUrl);
            string urlOption = "serviceUrl";
            if (configuredUrl is null && !IsTrue(getEnvironmentVariable("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")))
            {
                configuredUrl = NullIfEmpty(getEnvironmentVariable("AWS_ENDPOINT_URL_FIREHOSE"));
                urlOption = "AWS_ENDPOINT_URL_FIREHOSE";
                if (configuredUrl is null)
                {
                    configuredUrl = NullIfEmpty(getEnvironmentVariable("AWS_ENDPOINT_URL"));
                    urlOption = "AWS_ENDPOINT_URL";
                }
            }

            string? resolvedRegion = NullIfEmpty(region) ?? NullIfEmpty(profileRegion)
                ?? NullIfEmpty(getEnvironmentVariable("AWS_REGION")) ?? NullIfEmpty(getEnvironmentVariable("AWS_DEFAULT_REGION"));

            if (configuredUrl != null)
            {
                if (!Uri.TryCreate(configuredUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                    throw new NLogConfigurationException($"KinesisFirehose: {urlOption} must be an absolute http(s) URL; got '{configuredUrl}'.");
                string signingRegion = resolvedRegion ?? RegionFromHost(uri.Host) ?? "us-east-1";
                return new FirehoseEndpoint(uri, signingRegion, isConfigured: true);
            }

            resolvedRegion ??= NullIfEmpty(SafeFallback(sdkFallbackRegion));
            if (resolvedRegion is null)
                throw new NLogConfigurationException("KinesisFirehose: no region. Set the target's region option, AWS_REGION, or a region in the AWS profile; or set serviceUrl.");

            useFips = useFips || IsTrue(getEnvironmentVariable("AWS_USE_FIPS_ENDPOINT"));
            string suffix = RegionEndpoint.GetBySystemName(resolvedRegion).PartitionDnsSuffix ?? "amazonaws.com";
            var serviceUri = new Uri($"https://firehose{(useFips ? "-fips" : string.Empty)}.{resolvedRegion}.{suffix}/");
            return new FirehoseEndpoint(serviceUri, resolvedRegion, isConfigured: false);
        }

        private static string? SafeFallback(Func<string?> sdkFallbackRegion)
        {
            try
            {
                return sdkFallbackRegion();
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                Common.InternalLogger.Debug(ex, "KinesisFirehose: the AWS SDK's region fallback chain found no region");
                return null;
            }
        }

        private static string? RegionFromHost(string host)
        {
            var match = RegionInHost.Match(host);
            return match.Success ? match.Groups[1].Value.ToLowerInvariant() : null;
        }

        private static bool IsTrue(string? value) => string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);

        private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value!.Trim();
    }
}
