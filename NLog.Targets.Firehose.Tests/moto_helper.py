"""Control-plane helper for the moto end-to-end test (boto3 ships with moto on these machines).

    python3 moto_helper.py setup ENDPOINT BUCKET STREAM   -> creates the bucket and a DirectPut stream into it
    python3 moto_helper.py dump  ENDPOINT BUCKET OUTFILE  -> writes every S3 object's bytes, in key order, to OUTFILE
                                                             and prints the number of objects
"""
import sys

import boto3


def clients(endpoint):
    kwargs = dict(endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client("s3", **kwargs), boto3.client("firehose", **kwargs)


def setup(endpoint, bucket, stream):
    s3, firehose = clients(endpoint)
    s3.create_bucket(Bucket=bucket)
    firehose.create_delivery_stream(
        DeliveryStreamName=stream,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose-to-s3",
            "BucketARN": "arn:aws:s3:::" + bucket,
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60},
        },
    )
    status = firehose.describe_delivery_stream(DeliveryStreamName=stream)["DeliveryStreamDescription"]["DeliveryStreamStatus"]
    print(status)


def dump(endpoint, bucket, outfile):
    s3, _ = clients(endpoint)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    with open(outfile, "wb") as out:
        for key in sorted(keys):
            out.write(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    print(len(keys))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"setup": setup, "dump": dump}[command](*args)
