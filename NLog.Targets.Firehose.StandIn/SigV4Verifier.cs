using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace NLog.Targets.Firehose.StandIn;

/// <summary>
/// Checks an AWS Signature Version 4 <c>Authorization</c> header, written from the specification independently of
/// the AWS SDK so that the two check each other.
/// </summary>
public static partial class SigV4Verifier
{
    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[^/]+)/(?<date>\d{8})/(?<region>[^/]+)/(?<service>[^/]+)/aws4_request, ?SignedHeaders=(?<signed>[a-z0-9;\-]+), ?Signature=(?<sig>[0-9a-f]{64})$")]
    private static partial Regex AuthorizationPattern();

    /// <summary>The parts of a parsed Authorization header.</summary>
    public sealed record Authorization(string AccessKey, string Date, string Region, string Service, string[] SignedHeaders, string Signature);

    /// <summary>Parses the header; null when it is not a SigV4 header.</summary>
    public static Authorization? Parse(string? header)
    {
        if (header is null)
            return null;
        var m = AuthorizationPattern().Match(header);
        if (!m.Success)
            return null;
        return new Authorization(m.Groups["key"].Value, m.Groups["date"].Value, m.Groups["region"].Value, m.Groups["service"].Value,
            m.Groups["signed"].Value.Split(';'), m.Groups["sig"].Value);
    }

    /// <summary>
    /// Computes the signature of a request. <paramref name="headers"/> maps lower-case header names to values and must
    /// hold every signed header.
    /// </summary>
    public static string ComputeSignature(string method, string path, string query, IReadOnlyDictionary<string, string> headers,
        IEnumerable<string> signedHeaders, string payloadHash, string amzDate, string region, string service, string secretKey)
    {
        var signed = signedHeaders.ToArray();
        var canonical = new StringBuilder();
        canonical.Append(method).Append('\n');
        canonical.Append(path).Append('\n');
        canonical.Append(query).Append('\n');
        foreach (var name in signed)
            canonical.Append(name).Append(':').Append(CanonicalValue(headers[name])).Append('\n');
        canonical.Append('\n');
        canonical.Append(string.Join(';', signed)).Append('\n');
        canonical.Append(payloadHash);

        string date = amzDate.Substring(0, 8);
        string scope = $"{date}/{region}/{service}/aws4_request";
        string stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())))}";

        byte[] key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), date);
        key = Hmac(key, region);
        key = Hmac(key, service);
        key = Hmac(key, "aws4_request");
        return Hex(Hmac(key, stringToSign));
    }

    /// <summary>Lower-case hex SHA-256 of <paramref name="data"/>.</summary>
    public static string HashHex(ReadOnlySpan<byte> data) => Hex(SHA256.HashData(data));

    /// <summary>Parses an <c>X-Amz-Date</c> value (<c>yyyyMMddTHHmmssZ</c>).</summary>
    public static bool TryParseAmzDate(string? value, out DateTime utc) =>
        DateTime.TryParseExact(value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out utc);

    private static string CanonicalValue(string value) => Regex.Replace(value.Trim(), " +", " ");

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
