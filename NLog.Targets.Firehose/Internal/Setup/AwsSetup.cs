using System;
using System.Collections.Generic;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using NLog.Common;
using NLog.Layouts;
using NLog.Targets.Firehose.Internal.Aws;

namespace NLog.Targets.Firehose.Internal.Setup
{
    /// <summary>
    /// The AWS side of the options, resolved once when the target initializes: credentials (profile, role, else the AWS
    /// SDK's default chain), the endpoint and signing region, the proxy.
    /// </summary>
    internal sealed class AwsSetup
    {
        private const string DefaultRoleSessionName = "NLog.Targets.Firehose";

        private AwsSetup(FirehoseEndpoint endpoint, AWSCredentials? credentials, string credentialSource, System.Net.IWebProxy? proxy)
        {
            Endpoint = endpoint;
            Credentials = credentials;
            CredentialSource = credentialSource;
            Proxy = proxy;
        }

        public FirehoseEndpoint Endpoint { get; }

        /// <summary>Null: the AWS SDK's default chain.</summary>
        public AWSCredentials? Credentials { get; }

        /// <summary>For messages: where the credentials come from (never the credentials).</summary>
        public string CredentialSource { get; }

        public System.Net.IWebProxy? Proxy { get; }

        /// <summary>Resolves the target's AWS options; a broken one throws <see cref="NLogConfigurationException"/>.</summary>
        public static AwsSetup Resolve(FirehoseTarget target, TargetSeams seams)
        {
            var nullEvent = LogEventInfo.CreateNullEvent();
            string? profile = Render(target.Profile, nullEvent);
            string? profilesLocation = Render(target.ProfilesLocation, nullEvent);
            AWSCredentials? credentials = null;
            string? profileRegion = null;
            if (profile != null || profilesLocation != null)
                (credentials, profileRegion) = LoadProfile(target, profile ?? seams.GetEnvironmentVariable("AWS_PROFILE") ?? "default", profilesLocation);
            string credentialSource = credentials != null ? "profile '" + (profile ?? "default") + "'" : "the AWS SDK's default chain";
            string? roleArn = Render(target.RoleArn, nullEvent);
            string? externalId = Render(target.ExternalId, nullEvent);
            string? roleSessionName = Render(target.RoleSessionName, nullEvent);
            OptionsValidator.ValidateRole(target, roleArn, externalId, roleSessionName);
            if (roleArn != null)
            {
                string sessionName = roleSessionName ?? DefaultRoleSessionName;
                credentials = new AssumeRoleAWSCredentials(credentials ?? new DefaultChainCredentials(), roleArn, sessionName,
                    new AssumeRoleAWSCredentialsOptions { ExternalId = externalId });
                credentialSource = $"role {roleArn} (session '{sessionName}'), assumed with {credentialSource}";
            }

            var endpoint = FirehoseEndpoint.Resolve(Render(target.ServiceUrl, nullEvent), Render(target.Region, nullEvent), profileRegion, target.UseFipsEndpoint,
                seams.GetEnvironmentVariable, seams.SdkFallbackRegion);
            string? authenticationRegion = Render(target.AuthenticationRegion, nullEvent);
            if (authenticationRegion != null)
                endpoint = new FirehoseEndpoint(endpoint.ServiceUri, authenticationRegion, endpoint.IsConfigured);
            if (endpoint.IsConfigured && endpoint.ServiceUri.Scheme == Uri.UriSchemeHttp && !endpoint.ServiceUri.IsLoopback)
                InternalLogger.Warn("{0}: serviceUrl {1} is plain http to a host that is not loopback: log events, signatures and the session token (when the credentials have one) travel unencrypted and can be read or replayed on the way", target, endpoint.ServiceUri);

            var proxy = CreateProxy(target, Render(target.ProxyUrl, nullEvent), Render(target.ProxyBypass, nullEvent));
            return new AwsSetup(endpoint, credentials, credentialSource, proxy);
        }

        /// <summary>An option rendered without an event: null when empty.</summary>
        public static string? Render(Layout? layout, LogEventInfo logEvent)
        {
            if (layout is null)
                return null;
            string value = layout.Render(logEvent);
            return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        }

        private static System.Net.IWebProxy? CreateProxy(FirehoseTarget target, string? proxyUrl, string? bypass)
        {
            if (proxyUrl is null)
                return null;
            if (!Uri.TryCreate(proxyUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                throw new NLogConfigurationException($"{target}: proxyUrl must be an absolute http:// or https:// URL.");
            var proxy = new System.Net.WebProxy(new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri);
            if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                string[] parts = uri.UserInfo.Split(new[] { ':' }, 2);
                proxy.Credentials = new System.Net.NetworkCredential(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty);
            }
            if (bypass != null)
            {
                var patterns = new List<string>();
                foreach (string host in bypass.Split(new[] { ',', ';' }, StringSplitOptions.RemoveEmptyEntries))
                    patterns.Add("^(https?://)?" + System.Text.RegularExpressions.Regex.Escape(host.Trim()).Replace("\\*", ".*") + "(:[0-9]+)?/?$"); // .NET matches these against scheme://host:port
                proxy.BypassList = patterns.ToArray();
            }
            InternalLogger.Info("{0}: calls go through the proxy {1}", target, proxy.Address);
            return proxy;
        }

        private static (AWSCredentials Credentials, string? Region) LoadProfile(FirehoseTarget target, string profile, string? profilesLocation)
        {
            var chain = new CredentialProfileStoreChain(profilesLocation);
            if (!chain.TryGetProfile(profile, out var found))
                throw new NLogConfigurationException($"{target}: profile '{profile}' was not found in {profilesLocation ?? "the default AWS config and credentials files"}.");
            if (!chain.TryGetAWSCredentials(profile, out var credentials))
                throw new NLogConfigurationException($"{target}: profile '{profile}' has no usable credentials.");
            return (credentials, found.Region?.SystemName);
        }
    }
}
