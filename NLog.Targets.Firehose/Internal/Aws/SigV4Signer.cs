using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>
    /// AWS Signature Version 4 for the one request shape this target sends: a POST of a JSON body to the endpoint's path,
    /// signing <c>content-type</c>, <c>host</c>, <c>x-amz-content-sha256</c>, <c>x-amz-date</c>,
    /// <c>x-amz-security-token</c> (temporary credentials) and <c>x-amz-target</c> — the headers AWSSDK.Core's own signer
    /// signs for this request, with the same signature (tests check both against AWS's published examples). Written here
    /// rather than called in AWSSDK.Core because the SDK's general signer cost ~0.4 ms of CPU per call (it copies the body
    /// into a stream, builds a generic request and canonicalizes it) and ~0.4 s of JIT compilation at start; this one hashes
    /// the body once and keeps the derived key for the day. Credentials still come from AWSSDK.Core.
    /// </summary>
    internal sealed class SigV4Signer
    {
        private const string Algorithm = "AWS4-HMAC-SHA256";
        private readonly string _region;
        private readonly string _service;
        private readonly string _host;
        private readonly string _canonicalUri;
        private readonly string _canonicalQuery;
        private readonly object _lock = new object();
        private string? _keySecret;
        private string? _keyDate;
        private byte[]? _key;

        public SigV4Signer(Uri endpoint, string region, string service)
        {
            _region = region;
            _service = service;
            _host = HostHeader(endpoint);
            _canonicalUri = CanonicalUri(endpoint.AbsolutePath);
            _canonicalQuery = CanonicalQuery(endpoint.Query);
        }

        /// <summary>
        /// The <c>Host</c> header of requests to <paramref name="endpoint"/>, as signed and as sent: an IPv6 literal in
        /// brackets, as HttpClient sends it (<c>[::1]:4566</c>), or the signature would cover another host than the one sent.
        /// </summary>
        internal static string HostHeader(Uri endpoint)
        {
            string host = endpoint.HostNameType == UriHostNameType.IPv6 ? "[" + endpoint.IdnHost + "]" : endpoint.IdnHost;
            return endpoint.IsDefaultPort ? host : host + ":" + endpoint.Port.ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>
        /// <c>yyyyMMdd'T'HHmmss'Z'</c>, written digit by digit: a custom format string runs the framework's general date
        /// formatter, which costs a call far more (and its own compiling at start-up) than these sixteen characters.
        /// </summary>
        internal static string AmzDate(DateTime utc)
        {
            var text = new char[16];
            Digits(text, 0, utc.Year, 4);
            Digits(text, 4, utc.Month, 2);
            Digits(text, 6, utc.Day, 2);
            text[8] = 'T';
            Digits(text, 9, utc.Hour, 2);
            Digits(text, 11, utc.Minute, 2);
            Digits(text, 13, utc.Second, 2);
            text[15] = 'Z';
            return new string(text);
        }

        private static void Digits(char[] text, int at, int value, int count)
        {
            for (int i = at + count - 1; i >= at; i--)
            {
                text[i] = (char)('0' + value % 10);
                value /= 10;
            }
        }

        /// <summary>
        /// The signing headers of a request whose body is the first <paramref name="length"/> bytes of
        /// <paramref name="body"/>, sent with <paramref name="contentType"/> and <paramref name="amzTarget"/>.
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        public SigV4Signature Sign(byte[] body, int length, string contentType, string amzTarget, ImmutableCredentials credentials, DateTime signedAtUtc)
        {
            string amzDate = AmzDate(signedAtUtc);
            string date = amzDate.Substring(0, 8);
            string payloadHash = Hex(Sha256(body, 0, length));
            string? token = credentials.UseToken ? credentials.Token : null;
            string signedHeaders = token is null
                ? "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target"
                : "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target";

            var canonical = new StringBuilder(512)
                .Append("POST\n").Append(_canonicalUri).Append('\n').Append(_canonicalQuery).Append('\n')
                .Append("content-type:").Append(contentType).Append('\n')
                .Append("host:").Append(_host).Append('\n')
                .Append("x-amz-content-sha256:").Append(payloadHash).Append('\n')
                .Append("x-amz-date:").Append(amzDate).Append('\n');
            if (token != null)
                canonical.Append("x-amz-security-token:").Append(token.Trim()).Append('\n');
            canonical.Append("x-amz-target:").Append(amzTarget).Append('\n')
                .Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);

            string scope = date + "/" + _region + "/" + _service + "/aws4_request";
            string stringToSign = Algorithm + "\n" + amzDate + "\n" + scope + "\n" + Hex(Sha256(Encoding.UTF8.GetBytes(canonical.ToString())));
            string signature = Hex(Hmac(SigningKey(credentials.SecretKey, date), Encoding.UTF8.GetBytes(stringToSign)));
            string authorization = Algorithm + " Credential=" + credentials.AccessKey + "/" + scope + ", SignedHeaders=" + signedHeaders + ", Signature=" + signature;
            return new SigV4Signature(amzDate, payloadHash, token, authorization);
        }

        /// <summary>The derived key of <paramref name="secret"/> for <paramref name="date"/>, kept until either changes.</summary>
        [MethodImpl(HotPath.Optimized)]
        private byte[] SigningKey(string secret, string date)
        {
            lock (_lock)
            {
                if (_key != null && ReferenceEquals(_keySecret, secret) && _keyDate == date)
                    return _key;
            }
            byte[] key = Encoding.UTF8.GetBytes("AWS4" + secret);
            key = Hmac(key, Encoding.UTF8.GetBytes(date));
            key = Hmac(key, Encoding.UTF8.GetBytes(_region));
            key = Hmac(key, Encoding.UTF8.GetBytes(_service));
            key = Hmac(key, Encoding.UTF8.GetBytes("aws4_request"));
            lock (_lock)
            {
                _keySecret = secret;
                _keyDate = date;
                _key = key;
            }
            return key;
        }

        /// <summary>Each path segment URI-encoded (again: SigV4 encodes the already encoded path of services other than S3).</summary>
        private static string CanonicalUri(string absolutePath)
        {
            if (string.IsNullOrEmpty(absolutePath) || absolutePath == "/")
                return "/";
            string[] segments = absolutePath.Split('/');
            for (int i = 0; i < segments.Length; i++)
                segments[i] = Uri.EscapeDataString(segments[i]);
            return string.Join("/", segments);
        }

        private static string CanonicalQuery(string query)
        {
            if (string.IsNullOrEmpty(query) || query == "?")
                return string.Empty;
            string[] pairs = query.TrimStart('?').Split(new[] { '&' }, StringSplitOptions.RemoveEmptyEntries);
            var encoded = new KeyValuePair<string, string>[pairs.Length];
            for (int i = 0; i < pairs.Length; i++)
            {
                int eq = pairs[i].IndexOf('=');
                string name = Uri.UnescapeDataString(eq < 0 ? pairs[i] : pairs[i].Substring(0, eq));
                string value = eq < 0 ? string.Empty : Uri.UnescapeDataString(pairs[i].Substring(eq + 1));
                encoded[i] = new KeyValuePair<string, string>(Uri.EscapeDataString(name), Uri.EscapeDataString(value));
            }
            // Sorted by name, then by value (SigV4's rule): sorting "name=value" whole puts "a-b=1" before "a=2".
            Array.Sort(encoded, static (x, y) =>
            {
                int byName = string.CompareOrdinal(x.Key, y.Key);
                return byName != 0 ? byName : string.CompareOrdinal(x.Value, y.Value);
            });
            var joined = new StringBuilder();
            foreach (var pair in encoded)
                joined.Append(joined.Length == 0 ? "" : "&").Append(pair.Key).Append('=').Append(pair.Value);
            return joined.ToString();
        }

        private static byte[] Sha256(byte[] data, int offset, int count)
        {
#if NET8_0_OR_GREATER
            return SHA256.HashData(data.AsSpan(offset, count));
#else
            using var sha = SHA256.Create();
            return sha.ComputeHash(data, offset, count);
#endif
        }

        private static byte[] Sha256(byte[] data) => Sha256(data, 0, data.Length);

        private static byte[] Hmac(byte[] key, byte[] data)
        {
#if NET8_0_OR_GREATER
            return HMACSHA256.HashData(key, data);
#else
            using var hmac = new HMACSHA256(key);
            return hmac.ComputeHash(data);
#endif
        }

        [MethodImpl(HotPath.Optimized)]
        private static string Hex(byte[] bytes)
        {
            const string Digits = "0123456789abcdef";
            var chars = new char[bytes.Length * 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = Digits[bytes[i] >> 4];
                chars[2 * i + 1] = Digits[bytes[i] & 0xF];
            }
            return new string(chars);
        }
    }
}
