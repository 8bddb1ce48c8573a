using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>
    /// The AWS SDK's default credential chain as an <see cref="AWSCredentials"/>, resolved when asked (not at start-up),
    /// so it can be the source of an assumed role without touching the chain before the first call.
    /// </summary>
    internal sealed class DefaultChainCredentials : AWSCredentials
    {
        private readonly DefaultAWSCredentialsIdentityResolver _resolver = new DefaultAWSCredentialsIdentityResolver();

        public override ImmutableCredentials GetCredentials() => _resolver.ResolveIdentity(null).GetCredentials();

        public override async Task<ImmutableCredentials> GetCredentialsAsync()
        {
            var credentials = await _resolver.ResolveIdentityAsync(null).ConfigureAwait(false);
            return await credentials.GetCredentialsAsync().ConfigureAwait(false);
        }
    }
}
