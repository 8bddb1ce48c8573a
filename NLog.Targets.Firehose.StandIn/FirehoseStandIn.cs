using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NLog.Targets.Firehose.StandIn;

/// <summary>
/// A Firehose PutRecordBatch endpoint on loopback (Kestrel). It checks what a real endpoint checks (SigV4 signature
/// and credential scope, the JSON body, the service limits, that the stream exists), stores what it accepts, and
/// injects faults on command (<see cref="Faults"/>). Protocol mistakes by the client are also listed in
/// <see cref="Violations"/> so tests can assert there were none.
/// </summary>
public sealed class FirehoseStandIn : IAsyncDisposable
{
    /// <summary>The service limit on records per call.</summary>
    public const int MaxRecordsPerCall = 500;

    /// <summary>The service limit on one record's data, before base64.</summary>
    public const int MaxRecordBytes = 1_024_000;

    /// <summary>The service limit on one call's data: 4 MiB.</summary>
    public const int MaxBytesPerCall = 4 * 1024 * 1024;

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<byte[]>> _streams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _credentials = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _sessionTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<StsCall> _stsCalls = new();
    private readonly ConcurrentDictionary<string, bool> _deniedRoles = new(StringComparer.Ordinal);
    private int _issued;
    private readonly ConcurrentQueue<(string?, string?, string?)> _ssoCalls = new();
    private int _describeCalls;
    private readonly TaskCompletionSource _firstDescribe = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, (string Status, string Type)> _streamStates = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentDictionary<string, QuotaWindow> _quotaWindows = new(StringComparer.Ordinal);
    private long _quotaRefused;

    /// <summary>Records refused so far because they were over the stream's quota (<see cref="StandInFaults.QuotaRecordsPerSecond"/>).</summary>
    public long QuotaRefusedRecords => Interlocked.Read(ref _quotaRefused);

    /// <summary>A stream's use of its quota in the current second.</summary>
    private sealed class QuotaWindow
    {
        public long Second;
        public long Records;
        public long Bytes;
    }
    private readonly ConcurrentQueue<CallRecord> _calls = new();
    private readonly ConcurrentQueue<string> _signingRegions = new();
    private readonly Random _random;
    private readonly object _randomLock = new();
    private long _requests;
    private readonly int _instance = Random.Shared.Next(); // record ids differ between stand-ins
    private long _recordsStoredThenDropped;
    private int _inFlight;
    private int _maxInFlight;
    private readonly object _inFlightLock = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _inFlightWaiters = new();
    private readonly ConcurrentQueue<byte[]> _storedThenDropped = new();

    private FirehoseStandIn(WebApplication app, int seed)
    {
        _app = app;
        _random = new Random(seed);
    }

    /// <summary>The access key the stand-in accepts by default.</summary>
    public const string DefaultAccessKey = "AKIASTANDIN000000001";

    /// <summary>The secret of <see cref="DefaultAccessKey"/>.</summary>
    public const string DefaultSecretKey = "standin/secret/key/0000000000000000000000";

    /// <summary>The endpoint URL, e.g. <c>http://127.0.0.1:54321/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Faults to inject.</summary>
    public StandInFaults Faults { get; } = new();

    /// <summary>When set, every signature's credential scope must name this region.</summary>
    public string? ExpectedRegion { get; set; }

    /// <summary>When true, a call to a stream that was never created creates it (default false: <c>ResourceNotFoundException</c>).</summary>
    public bool AutoCreateStreams { get; set; }

    /// <summary>Protocol mistakes seen (bad signature, limits exceeded, malformed body…).</summary>
    public IReadOnlyCollection<string> Violations => _violations.ToArray();

    /// <summary>Every PutRecordBatch call that reached the handler, in arrival order.</summary>
    public IReadOnlyCollection<CallRecord> Calls => _calls.ToArray();

    /// <summary>The region of each signed request's credential scope, in arrival order.</summary>
    public IReadOnlyCollection<string> SigningRegions => _signingRegions.ToArray();

    /// <summary>Raised when a request arrives, before it is answered (with the running request count).</summary>
    public event Action<long>? RequestReceived;

    /// <summary>
    /// Records stored by calls whose connection was then dropped (<see cref="StandInFaults.DropAfterProcessingRate"/>) or whose client
    /// gave up waiting for the answer (<see cref="StandInFaults.SlowAfterProcessingRate"/>):
    /// the client cannot know they arrived, so it sends them again. Exactly this many duplicates are expected.
    /// </summary>
    public long RecordsStoredThenDropped => Interlocked.Read(ref _recordsStoredThenDropped);

    /// <summary>The records behind <see cref="RecordsStoredThenDropped"/>: each one the client must send again.</summary>
    public IReadOnlyCollection<byte[]> StoredThenDroppedRecords => _storedThenDropped.ToArray();

    /// <summary>HTTP requests received, including rejected and dropped ones.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Trace-context headers seen on any request (W3C, B3, the older Request-Id): a logging target must carry none.</summary>
    public IReadOnlyCollection<string> TraceHeadersSeen => _traceHeadersSeen.ToArray();

    private static readonly string[] TraceHeaderNames = { "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context", "b3", "X-B3-TraceId" };
    private readonly ConcurrentQueue<string> _traceHeadersSeen = new();

    /// <summary>
    /// Starts a stand-in on 127.0.0.1 on a free port (or <paramref name="port"/>); over TLS (https) with
    /// <paramref name="certificate"/> when given.
    /// </summary>
    public static async Task<FirehoseStandIn> StartAsync(int port = 0, int seed = 12345, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (certificate != null)
            builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves HTTPS out
        builder.WebHost.UseKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, port, listen =>
            {
                if (certificate != null)
                    listen.UseHttps(certificate);
            });
            options.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
        });
        var app = builder.Build();
        var standIn = new FirehoseStandIn(app, seed);
        standIn._credentials[DefaultAccessKey] = DefaultSecretKey;
        app.MapPost("/", standIn.HandleAsync);
        app.MapGet("/federation/credentials", standIn.HandleSsoAsync);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        standIn.Url = new Uri(address.TrimEnd('/') + "/");
        return standIn;
    }

    /// <summary>
    /// Points this process's standard AWS variables at the stand-in: <c>AWS_ENDPOINT_URL_FIREHOSE</c>, <c>AWS_REGION</c>
    /// and the stand-in's keys (no session token, no instance metadata), as the examples do.
    /// </summary>
    public void SetAwsEnvironment(string region = "us-east-1")
    {
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_FIREHOSE", Url.ToString());
        Environment.SetEnvironmentVariable("AWS_REGION", region);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", DefaultAccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", DefaultSecretKey);
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }

    /// <summary>
    /// When true and no fault is set, a PutRecordBatch call is answered as soon as its records are counted (all accepted) and
    /// what it would be checked for (signature, body, limits, the stream) and stored waits for
    /// <see cref="CompleteDeferredChecks"/>: a service that parses nothing while a benchmark measures the application
    /// beside it on the same cores. Violations found then are listed as usual.
    /// </summary>
    public bool DeferChecks { get; set; }

    private readonly ConcurrentQueue<(string Method, string Host, long? ContentLength, HeaderDictionary Headers, byte[] Body)> _deferred = new();

    private async Task AcceptDeferredAsync(HttpContext context, byte[] body, long requestNumber)
    {
        var request = context.Request;
        var headers = new HeaderDictionary();
        foreach (var header in request.Headers)
            headers[header.Key] = header.Value;
        _deferred.Enqueue((request.Method, request.Host.Value ?? string.Empty, request.ContentLength, headers, body));
        int count = body.AsSpan().Count("{\"Data\":"u8); // the client's serializer writes each record as {"Data":"…"}
        using var responseBody = new MemoryStream();
        using (var writer = new Utf8JsonWriter(responseBody))
        {
            writer.WriteStartObject();
            writer.WriteNumber("FailedPutCount", 0);
            writer.WriteBoolean("Encrypted", false);
            writer.WriteStartArray("RequestResponses");
            for (int i = 0; i < count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("RecordId", RecordId(requestNumber, i));
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.ContentLength = responseBody.Length;
        await context.Response.Body.WriteAsync(responseBody.GetBuffer().AsMemory(0, (int)responseBody.Length)).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks and stores the calls <see cref="DeferChecks"/> answered unchecked, in arrival order: a call that fails a
    /// check is a violation and stores nothing. Returns how many calls it checked.
    /// </summary>
    public int CompleteDeferredChecks()
    {
        int checkedCalls = 0;
        while (_deferred.TryDequeue(out var call))
        {
            checkedCalls++;
            var (authError, accessKey) = CheckSignature(call.Method, call.Host, call.ContentLength, call.Headers, call.Body);
            if (authError != null)
            {
                Violation("deferred: " + authError.Value.Message);
                continue;
            }
            string stream;
            List<byte[]> records;
            try
            {
                (stream, records) = ParseBody(call.Body);
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                Violation("deferred: malformed body: " + ex.Message);
                continue;
            }
            long dataBytes = records.Sum(r => (long)r.Length);
            if (records.Count == 0 || records.Count > MaxRecordsPerCall || records.Any(r => r.Length > MaxRecordBytes) || dataBytes > MaxBytesPerCall)
            {
                Violation($"deferred: a call of {records.Count} records and {dataBytes} bytes is over the limits");
                continue;
            }
            var queue = AutoCreateStreams ? _streams.GetOrAdd(stream, _ => new ConcurrentQueue<byte[]>()) : _streams.GetValueOrDefault(stream);
            if (queue is null)
            {
                Violation($"deferred: stream {stream} does not exist");
                continue;
            }
            foreach (var record in records)
                queue.Enqueue(record);
            _calls.Enqueue(new CallRecord(stream, records.Count, dataBytes, 200, "ok", accessKey!, ((IHeaderDictionary)call.Headers).UserAgent.ToString()));
        }
        return checkedCalls;
    }

    /// <summary>Creates a delivery stream (idempotent).</summary>
    public void CreateStream(string name) => _streams.GetOrAdd(name, _ => new ConcurrentQueue<byte[]>());

    /// <summary>Deletes a delivery stream and what it held.</summary>
    public void DeleteStream(string name) => _streams.TryRemove(name, out _);

    /// <summary>Forgets the records and calls seen so far (long benchmark runs).</summary>
    public void ClearRecords()
    {
        foreach (var queue in _streams.Values)
            queue.Clear();
        _calls.Clear();
    }

    /// <summary>Accepts another access key.</summary>
    public void AddCredentials(string accessKey, string secretKey) => _credentials[accessKey] = secretKey;

    /// <summary>The records a stream accepted, in order.</summary>
    public IReadOnlyList<byte[]> Records(string stream) => _streams.TryGetValue(stream, out var q) ? q.ToArray() : Array.Empty<byte[]>();

    /// <summary>How many records all streams accepted.</summary>
    public long TotalRecords => _streams.Values.Sum(q => (long)q.Count);

    /// <summary>
    /// How long credentials issued by the stand-in's STS and SSO portal are valid (their answer's expiration).
    /// </summary>
    public TimeSpan IssuedCredentialsLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>What DescribeDeliveryStream reports for a stream (default: ACTIVE, DirectPut).</summary>
    public void SetStreamState(string name, string status, string type) => _streamStates[name] = (status, type);

    /// <summary>DescribeDeliveryStream calls seen.</summary>
    public int DescribeCalls => _describeCalls;

    /// <summary>Completes when the first DescribeDeliveryStream call arrives (a signal for tests).</summary>
    public Task FirstDescribe => _firstDescribe.Task;

    /// <summary>How long DescribeDeliveryStream takes to answer.</summary>
    public TimeSpan DescribeDelay { get; set; }

    /// <summary>An error DescribeDeliveryStream answers with (status, code), e.g. (400, "AccessDeniedException"); null: none.</summary>
    public (int Status, string Code)? DescribeError { get; set; }

    /// <summary>The access token IAM Identity Center (SSO) accepts in GetRoleCredentials (what <c>aws sso login</c> caches).</summary>
    public string SsoAccessToken { get; set; } = "standin-sso-access-token";

    /// <summary>GetRoleCredentials calls seen: account, role, and the access key issued (null when refused).</summary>
    public IReadOnlyCollection<(string? AccountId, string? RoleName, string? IssuedAccessKey)> SsoCalls => _ssoCalls.ToArray();

    /// <summary>Makes AssumeRole of <paramref name="roleArn"/> fail with AccessDenied (a trust policy that does not allow the caller).</summary>
    public void DenyRole(string roleArn) => _deniedRoles[roleArn] = true;

    /// <summary>The STS calls seen (AssumeRole, AssumeRoleWithWebIdentity), in order.</summary>
    public IReadOnlyCollection<StsCall> StsCalls => _stsCalls.ToArray();

    /// <summary>
    /// One STS call: the action, its parameters, the access key that signed it (none for AssumeRoleWithWebIdentity, which
    /// is not signed) and the temporary access key issued.
    /// </summary>
    public sealed record StsCall(string Action, string? RoleArn, string? RoleSessionName, string? ExternalId, string? WebIdentityToken, string? SignedBy, string? IssuedAccessKey);

    /// <summary>One call as the stand-in saw it.</summary>
    public sealed record CallRecord(string Stream, int Records, long DataBytes, int Status, string Outcome, string AccessKey, string UserAgent, string? SessionToken = null);

    private double NextRandom()
    {
        lock (_randomLock)
            return _random.NextDouble();
    }

    private async Task HandleAsync(HttpContext context)
    {
        int inFlight = Interlocked.Increment(ref _inFlight);
        lock (_inFlightLock)
        {
            if (inFlight > _maxInFlight)
                _maxInFlight = inFlight;
            foreach (var waiter in _inFlightWaiters.Where(w => w.Count <= inFlight).ToList())
            {
                waiter.Reached.TrySetResult();
                _inFlightWaiters.Remove(waiter);
            }
        }
        try
        {
            await HandleOneAsync(context).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>The most requests that were being handled at once.</summary>
    public int MaxConcurrentRequests
    {
        get
        {
            lock (_inFlightLock)
                return _maxInFlight;
        }
    }

    /// <summary>Completes once <paramref name="count"/> requests are being handled at the same time (a signal for tests).</summary>
    public Task WhenInFlight(int count)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_inFlightLock)
        {
            if (Volatile.Read(ref _inFlight) >= count)
                return Task.CompletedTask;
            _inFlightWaiters.Add((count, reached));
        }
        return reached.Task;
    }

    /// <summary>
    /// The body, read into one array of its declared length when it declares one. (Cheap on purpose: where the
    /// stand-in shares a machine of few cores with the application the benchmarks measure, its CPU competes.)
    /// </summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength is long length && length >= 0 && length <= 16 * 1024 * 1024) // larger declared lengths: read as they come
        {
            byte[] body = new byte[length];
            int read = 0;
            while (read < body.Length)
            {
                int n = await request.Body.ReadAsync(body.AsMemory(read)).ConfigureAwait(false);
                if (n == 0)
                    return body.AsSpan(0, read).ToArray(); // shorter than declared: what came
                read += n;
            }
            return body;
        }
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>A record id unique within this stand-in, 32 hex digits as the stand-in always gave (no random number per record).</summary>
    private string RecordId(long requestNumber, int entry) =>
        string.Create(32, (_instance, requestNumber, entry), static (chars, state) =>
        {
            state._instance.TryFormat(chars.Slice(0, 8), out _, "x8", System.Globalization.CultureInfo.InvariantCulture);
            state.requestNumber.TryFormat(chars.Slice(8, 16), out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
            state.entry.TryFormat(chars.Slice(24, 8), out _, "x8", System.Globalization.CultureInfo.InvariantCulture);
        });

    private async Task HandleOneAsync(HttpContext context)
    {
        long requestNumber = Interlocked.Increment(ref _requests);
        RequestReceived?.Invoke(requestNumber);
        var request = context.Request;
        foreach (string name in TraceHeaderNames)
        {
            if (request.Headers.ContainsKey(name))
                _traceHeadersSeen.Enqueue(name);
        }
        byte[] body = await ReadBodyAsync(request).ConfigureAwait(false);

        var faults = Faults;
        if (faults.ResponseDelay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(faults.ResponseDelay, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the client gave up (or was killed) while the call was held
            }
        }
        if (faults.Hold is { } hold)
        {
            try
            {
                await hold.WaitAsync(context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the client gave up (or closed) while the call was held
            }
        }
        if (context.RequestAborted.IsCancellationRequested)
            return; // the client gave up before the service looked at the call: nothing stored

        if (request.HasFormContentType)
        {
            await HandleStsAsync(context, body).ConfigureAwait(false); // STS (Query protocol): AssumeRole, AssumeRoleWithWebIdentity
            return;
        }

        string? target = request.Headers["X-Amz-Target"].FirstOrDefault();
        if (target == "Firehose_20150804.DescribeDeliveryStream")
        {
            await DescribeAsync(context, body).ConfigureAwait(false);
            return;
        }
        if (target != "Firehose_20150804.PutRecordBatch")
        {
            await ErrorAsync(context, 400, "UnknownOperationException", $"Unknown target '{target}'").ConfigureAwait(false);
            return;
        }
        if (!string.Equals(request.ContentType, "application/x-amz-json-1.1", StringComparison.OrdinalIgnoreCase))
            Violation($"Content-Type was '{request.ContentType}'");

        if (DeferChecks && !faults.Any)
        {
            await AcceptDeferredAsync(context, body, requestNumber).ConfigureAwait(false);
            return;
        }

        var (authError, accessKey) = CheckSignature(request, body);
        if (authError != null)
        {
            Violation(authError.Value.Message);
            await ErrorAsync(context, authError.Value.Status, authError.Value.Code, authError.Value.Message).ConfigureAwait(false);
            return;
        }

        if (faults.OutageUntilUtc > DateTime.UtcNow)
        {
            await ErrorAsync(context, 503, "ServiceUnavailableException", "Service is unavailable (stand-in outage).").ConfigureAwait(false);
            return;
        }
        if (Chance(faults.DropConnectionRate))
        {
            context.Abort();
            return;
        }
        if (Chance(faults.ThrottleCallRate))
        {
            await ErrorAsync(context, 503, "ServiceUnavailableException", "Slow down.").ConfigureAwait(false);
            return;
        }
        if (Chance(faults.InternalErrorRate))
        {
            await ErrorAsync(context, 500, "InternalFailure", "We encountered an internal error.").ConfigureAwait(false);
            return;
        }

        string stream;
        List<byte[]> records;
        try
        {
            (stream, records) = ParseBody(body);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            Violation("Malformed body: " + ex.Message);
            await ErrorAsync(context, 400, "SerializationException", ex.Message).ConfigureAwait(false);
            return;
        }

        string userAgent = request.Headers.UserAgent.ToString();
        string? sessionToken = request.Headers["X-Amz-Security-Token"].FirstOrDefault();
        long dataBytes = records.Sum(r => (long)r.Length);
        string? limitError = records.Count == 0 ? "Records must not be empty"
            : records.Count > MaxRecordsPerCall ? $"{records.Count} records exceed the limit of {MaxRecordsPerCall}"
            : records.Any(r => r.Length > MaxRecordBytes) ? $"A record of {records.Max(r => r.Length)} bytes exceeds the limit of {MaxRecordBytes}"
            : dataBytes > MaxBytesPerCall ? $"Records size {dataBytes} exceeds 4 MB limit"
            : null;
        if (limitError != null)
        {
            Violation(limitError);
            _calls.Enqueue(new CallRecord(stream, records.Count, dataBytes, 400, "limit", accessKey!, userAgent));
            await ErrorAsync(context, 400, records.Count > MaxRecordsPerCall || records.Any(r => r.Length > MaxRecordBytes) ? "ValidationException" : "InvalidArgumentException", limitError).ConfigureAwait(false);
            return;
        }

        var queue = AutoCreateStreams ? _streams.GetOrAdd(stream, _ => new ConcurrentQueue<byte[]>()) : _streams.GetValueOrDefault(stream);
        if (queue is null)
        {
            _calls.Enqueue(new CallRecord(stream, records.Count, dataBytes, 400, "not-found", accessKey!, userAgent));
            await ErrorAsync(context, 400, "ResourceNotFoundException", $"Firehose {stream} under account 123456789012 not found.").ConfigureAwait(false);
            return;
        }

        int failed = 0;
        List<bool> stored;
        using var responseBody = new MemoryStream();
        using (var writer = new Utf8JsonWriter(responseBody))
        {
            writer.WriteStartObject();
            var entries = new List<bool>(records.Count);
            stored = entries;
            int quotaRecords = faults.QuotaRecordsPerSecond;
            long quotaBytes = faults.QuotaBytesPerSecond;
            var window = quotaRecords > 0 || quotaBytes > 0 ? _quotaWindows.GetOrAdd(stream, _ => new QuotaWindow()) : null;
            bool failCall = Chance(faults.FailedCallRate);
            foreach (var record in records)
            {
                bool fail = failCall || Chance(faults.FailedRecordRate);
                if (!fail && window != null)
                {
                    lock (window)
                    {
                        long second = DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond;
                        if (window.Second != second)
                        {
                            window.Second = second;
                            window.Records = 0;
                            window.Bytes = 0;
                        }
                        if ((quotaRecords > 0 && window.Records + 1 > quotaRecords) || (quotaBytes > 0 && window.Bytes + record.Length > quotaBytes))
                        {
                            fail = true;
                            Interlocked.Increment(ref _quotaRefused);
                        }
                        else
                        {
                            window.Records++;
                            window.Bytes += record.Length;
                        }
                    }
                }
                if (fail)
                    failed++;
                else
                    queue.Enqueue(record);
                entries.Add(fail);
            }
            writer.WriteNumber("FailedPutCount", failed);
            writer.WriteBoolean("Encrypted", false);
            writer.WriteStartArray("RequestResponses");
            int entryIndex = 0;
            foreach (bool fail in entries)
            {
                entryIndex++;
                writer.WriteStartObject();
                if (fail)
                {
                    writer.WriteString("ErrorCode", "ServiceUnavailableException");
                    writer.WriteString("ErrorMessage", "Slow down.");
                }
                else
                {
                    writer.WriteString("RecordId", RecordId(requestNumber, entryIndex));
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        _calls.Enqueue(new CallRecord(stream, records.Count, dataBytes, 200, failed > 0 ? $"partial:{failed}" : "ok", accessKey!, userAgent, sessionToken));
        if (Chance(faults.DropAfterProcessingRate))
        {
            StoredThenDropped(records, stored);
            context.Abort();
            return;
        }
        if (Chance(faults.SlowAfterProcessingRate))
        {
            try
            {
                await Task.Delay(faults.SlowAfterProcessingDelay, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the client timed out after the records were stored: it will send them again
                StoredThenDropped(records, stored);
                return;
            }
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        await context.Response.Body.WriteAsync(responseBody.ToArray()).ConfigureAwait(false);
    }

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

    private async Task DescribeAsync(HttpContext context, byte[] body)
    {
        Interlocked.Increment(ref _describeCalls);
        _firstDescribe.TrySetResult();
        if (DescribeDelay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(DescribeDelay, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return; // the caller gave up
            }
        }
        var (authError, _) = CheckSignature(context.Request, body);
        if (authError != null)
        {
            Violation(authError.Value.Message);
            await ErrorAsync(context, authError.Value.Status, authError.Value.Code, authError.Value.Message).ConfigureAwait(false);
            return;
        }
        if (DescribeError is { } error)
        {
            await ErrorAsync(context, error.Status, error.Code, "User is not authorized to perform: firehose:DescribeDeliveryStream").ConfigureAwait(false);
            return;
        }
        string? name;
        try
        {
            using var doc = JsonDocument.Parse(body);
            name = doc.RootElement.GetProperty("DeliveryStreamName").GetString();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Violation("Malformed DescribeDeliveryStream body: " + ex.Message);
            await ErrorAsync(context, 400, "SerializationException", ex.Message).ConfigureAwait(false);
            return;
        }
        if (name is null || !_streams.ContainsKey(name))
        {
            await ErrorAsync(context, 400, "ResourceNotFoundException", $"Firehose {name} under account 123456789012 not found.").ConfigureAwait(false);
            return;
        }
        var (status, type) = _streamStates.TryGetValue(name, out var state) ? state : ("ACTIVE", "DirectPut");
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.1";
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["DeliveryStreamDescription"] = new Dictionary<string, object>
            {
                ["DeliveryStreamName"] = name,
                ["DeliveryStreamARN"] = $"arn:aws:firehose:us-east-1:123456789012:deliverystream/{name}",
                ["DeliveryStreamStatus"] = status,
                ["DeliveryStreamType"] = type,
                ["VersionId"] = "1",
                ["Destinations"] = Array.Empty<object>(),
                ["HasMoreDestinations"] = false,
            },
        });
        await context.Response.Body.WriteAsync(json).ConfigureAwait(false);
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

    private static (string Stream, List<byte[]> Records) ParseBody(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        string stream = root.GetProperty("DeliveryStreamName").GetString() ?? throw new FormatException("DeliveryStreamName is null");
        var records = new List<byte[]>();
        foreach (var entry in root.GetProperty("Records").EnumerateArray())
            records.Add(entry.GetProperty("Data").GetBytesFromBase64());
        return (stream, records);
    }

    private void StoredThenDropped(List<byte[]> records, List<bool> failed)
    {
        for (int i = 0; i < records.Count; i++)
        {
            if (!failed[i])
            {
                _storedThenDropped.Enqueue(records[i]);
                Interlocked.Increment(ref _recordsStoredThenDropped);
            }
        }
    }

    private bool Chance(double rate) => rate > 0 && NextRandom() < rate;

    private void Violation(string message) => _violations.Enqueue(message);

    private async Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        context.Response.Headers["X-Amzn-ErrorType"] = code + ":http://internal.amazon.com/coral/com.amazonaws.firehose/";
        context.Response.Headers.Date = (DateTime.UtcNow + Faults.ClockOffset).ToString("R");
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["__type"] = code, ["message"] = message });
        await context.Response.Body.WriteAsync(json).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
