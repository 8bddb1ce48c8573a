using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace NLog.Targets.Firehose.StandIn;

/// <summary>The SigV4 check of every request: signature, credential scope, region and clock.</summary>
public sealed partial class FirehoseStandIn
{
    private ((int Status, string Code, string Message)? Error, string? AccessKey) CheckSignature(HttpRequest request, byte[] body, string service = "firehose") =>
        CheckSignature(request.Method, request.Host.Value ?? string.Empty, request.ContentLength, request.Headers, body, service);

    private ((int Status, string Code, string Message)? Error, string? AccessKey) CheckSignature(string method, string host, long? contentLength, IHeaderDictionary requestHeaders, byte[] body, string service = "firehose")
    {
        var auth = SigV4Verifier.Parse(requestHeaders.Authorization.FirstOrDefault());
        if (auth != null)
            _signingRegions.Enqueue(auth.Region);
        if (auth is null)
            return ((403, "MissingAuthenticationTokenException", "Missing or malformed SigV4 Authorization header"), null);
        if (!_credentials.TryGetValue(auth.AccessKey, out var secret))
            return ((400, "UnrecognizedClientException", "The security token included in the request is invalid."), null);
        if (auth.Service != service)
            return ((403, "InvalidSignatureException", $"Credential should be scoped to correct service: '{service}', not '{auth.Service}'."), null);
        if (_sessionTokens.TryGetValue(auth.AccessKey, out var token) && requestHeaders["X-Amz-Security-Token"].FirstOrDefault() != token)
            return ((403, "UnrecognizedClientException", "The security token included in the request is invalid (temporary credentials need their session token)."), null);
        if (ExpectedRegion != null && auth.Region != ExpectedRegion)
            return ((403, "InvalidSignatureException", $"Credential should be scoped to a valid region, not '{auth.Region}'."), null);
        foreach (var required in service == "firehose" ? new[] { "host", "x-amz-date", "x-amz-target", "content-type" } : new[] { "host", "x-amz-date" })
        {
            if (!auth.SignedHeaders.Contains(required))
                return ((403, "InvalidSignatureException", $"Header '{required}' is not signed"), null);
        }

        string? amzDate = requestHeaders["X-Amz-Date"].FirstOrDefault();
        if (!SigV4Verifier.TryParseAmzDate(amzDate, out var signedAt) || amzDate!.Substring(0, 8) != auth.Date)
            return ((403, "IncompleteSignatureException", "X-Amz-Date is missing or does not match the credential scope"), null);
        var serverNow = DateTime.UtcNow + Faults.ClockOffset;
        // Firehose's own wording: the server's time in parentheses, which a client without a Date header can read.
        if ((serverNow - signedAt).TotalMinutes > 5)
            return ((400, "InvalidSignatureException", $"Signature expired: {amzDate} is now earlier than {serverNow.AddMinutes(-5):yyyyMMdd'T'HHmmss'Z'} ({serverNow:yyyyMMdd'T'HHmmss'Z'} - 5 min.)"), auth.AccessKey);
        if ((signedAt - serverNow).TotalMinutes > 5)
            return ((400, "InvalidSignatureException", $"Signature not yet current: {amzDate} is still later than {serverNow.AddMinutes(5):yyyyMMdd'T'HHmmss'Z'} ({serverNow:yyyyMMdd'T'HHmmss'Z'} + 5 min.)"), auth.AccessKey);

        string payloadHash = SigV4Verifier.HashHex(body);
        string? declaredHash = requestHeaders["X-Amz-Content-SHA256"].FirstOrDefault();
        if (declaredHash != null && declaredHash != payloadHash)
            return ((400, "InvalidSignatureException", "x-amz-content-sha256 does not match the body"), null);

        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in auth.SignedHeaders)
        {
            if (name == "host")
                headers[name] = host;
            else if (name == "content-length")
                headers[name] = (contentLength ?? body.Length).ToString(System.Globalization.CultureInfo.InvariantCulture);
            else if (requestHeaders.TryGetValue(name, out var values))
                headers[name] = string.Join(",", values.ToArray());
            else
                return ((403, "InvalidSignatureException", $"Signed header '{name}' is missing"), null);
        }

        string expected = SigV4Verifier.ComputeSignature(method, "/", string.Empty, headers, auth.SignedHeaders, declaredHash ?? payloadHash, amzDate, auth.Region, auth.Service, secret);
        if (expected != auth.Signature)
            return ((403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."), null);
        return (null, auth.AccessKey);
    }
}
