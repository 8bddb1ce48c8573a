using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace NLog.Targets.Firehose.StandIn;

/// <summary>The credential services the AWS SDK calls: STS (AssumeRole, AssumeRoleWithWebIdentity) and SSO (GetRoleCredentials).</summary>
public sealed partial class FirehoseStandIn
{
    /// <summary>
    /// A minimal STS (Query protocol, XML answers): AssumeRole, signed by known credentials, and
    /// AssumeRoleWithWebIdentity, unsigned; both issue temporary credentials the Firehose side then accepts, with their
    /// session token.
    /// </summary>
    private async Task HandleStsAsync(HttpContext context, byte[] body)
    {
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
        string action = form.TryGetValue("Action", out var a) ? a.ToString() : string.Empty;
        string? Param(string name) => form.TryGetValue(name, out var v) ? v.ToString() : null;
        string? signedBy = null;
        if (action == "AssumeRole")
        {
            var (error, accessKey) = CheckSignature(context.Request, body, "sts");
            if (error != null)
            {
                Violation("STS: " + error.Value.Message);
                await StsErrorAsync(context, error.Value.Status, error.Value.Code, error.Value.Message).ConfigureAwait(false);
                return;
            }
            signedBy = accessKey;
        }
        else if (action != "AssumeRoleWithWebIdentity")
        {
            await StsErrorAsync(context, 400, "InvalidAction", $"Could not find operation {action}").ConfigureAwait(false);
            return;
        }
        string? roleArn = Param("RoleArn");
        if (roleArn is null || !roleArn.StartsWith("arn:aws:iam::", StringComparison.Ordinal) || _deniedRoles.ContainsKey(roleArn))
        {
            _stsCalls.Enqueue(new StsCall(action, roleArn, Param("RoleSessionName"), Param("ExternalId"), Param("WebIdentityToken"), signedBy, null));
            await StsErrorAsync(context, 403, "AccessDenied", $"Not authorized to perform sts:{action} on {roleArn}").ConfigureAwait(false);
            return;
        }

        var (issuedKey, secret, token) = Issue();
        _stsCalls.Enqueue(new StsCall(action, roleArn, Param("RoleSessionName"), Param("ExternalId"), Param("WebIdentityToken"), signedBy, issuedKey));
        string expiration = (DateTime.UtcNow + IssuedCredentialsLifetime).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        string xml = $@"<{action}Response xmlns=""https://sts.amazonaws.com/doc/2011-06-15/"">
  <{action}Result>
    <Credentials>
      <AccessKeyId>{issuedKey}</AccessKeyId>
      <SecretAccessKey>{secret}</SecretAccessKey>
      <SessionToken>{token}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROASTANDIN:{System.Security.SecurityElement.Escape(Param("RoleSessionName") ?? "session")}</AssumedRoleId>
      <Arn>{System.Security.SecurityElement.Escape(roleArn)}</Arn>
    </AssumedRoleUser>
  </{action}Result>
  <ResponseMetadata><RequestId>{Guid.NewGuid()}</RequestId></ResponseMetadata>
</{action}Response>";
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/xml";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(xml)).ConfigureAwait(false);
    }

    /// <summary>IAM Identity Center's GetRoleCredentials (REST, JSON): temporary credentials for an account and role.</summary>
    private async Task HandleSsoAsync(HttpContext context)
    {
        string? account = context.Request.Query["account_id"];
        string? role = context.Request.Query["role_name"];
        if (context.Request.Headers["x-amz-sso_bearer_token"].FirstOrDefault() != SsoAccessToken)
        {
            _ssoCalls.Enqueue((account, role, null));
            context.Response.StatusCode = 401;
            context.Response.Headers["x-amzn-ErrorType"] = "UnauthorizedException";
            await context.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["message"] = "Session token not found or invalid" }).ConfigureAwait(false);
            return;
        }
        var (issuedKey, secret, token) = Issue();
        _ssoCalls.Enqueue((account, role, issuedKey));
        long expiration = DateTimeOffset.UtcNow.Add(IssuedCredentialsLifetime).ToUnixTimeMilliseconds();
        await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
        {
            ["roleCredentials"] = new Dictionary<string, object>
            {
                ["accessKeyId"] = issuedKey,
                ["secretAccessKey"] = secret,
                ["sessionToken"] = token,
                ["expiration"] = expiration,
            },
        }).ConfigureAwait(false);
    }

    /// <summary>New temporary credentials, accepted (with their session token) from now on.</summary>
    private (string AccessKey, string Secret, string Token) Issue()
    {
        int n = Interlocked.Increment(ref _issued);
        string issuedKey = $"ASIASTANDIN{n:D9}";
        string secret = $"issued/secret/{n:D9}";
        string token = $"IQoJb3JpZ2luX2VjEStandIn{n:D9}";
        _credentials[issuedKey] = secret;
        _sessionTokens[issuedKey] = token;
        return (issuedKey, secret, token);
    }

    private static async Task StsErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml";
        string xml = $@"<ErrorResponse xmlns=""https://sts.amazonaws.com/doc/2011-06-15/"">
  <Error><Type>Sender</Type><Code>{code}</Code><Message>{System.Security.SecurityElement.Escape(message)}</Message></Error>
  <RequestId>{Guid.NewGuid()}</RequestId>
</ErrorResponse>";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(xml)).ConfigureAwait(false);
    }
}
