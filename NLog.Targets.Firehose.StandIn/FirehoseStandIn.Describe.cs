using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace NLog.Targets.Firehose.StandIn;

/// <summary>DescribeDeliveryStream, for the target's start-up check.</summary>
public sealed partial class FirehoseStandIn
{
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
}
