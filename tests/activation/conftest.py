"""Fixtures of the activation tests: an S3-compatible server on loopback (moto) for the file destination."""

from __future__ import annotations

import pytest

S3_KEY = S3_SECRET = "testing"
S3_REGION = "us-east-1"
S3_BUCKET = "kizuna-activation"


HIDDEN_AWS_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    """moto's S3 on 127.0.0.1 at a free port, with one bucket: (endpoint_url, bucket, storage_options).

    Credentials, region and endpoint are passed explicitly to every client; while the fixture lives,
    the machine's AWS profile and config files are hidden and the instance-metadata lookup is off,
    so nothing is read from them and no call leaves the machine (restored at teardown). The s3fs
    options skip fsspec's instance and listing caches, so one test's listing never answers for another's.
    """
    import boto3
    from moto.server import ThreadedMotoServer

    nowhere = str(tmp_path_factory.mktemp("aws") / "absent")
    with pytest.MonkeyPatch.context() as mp:
        for name in (*HIDDEN_AWS_VARIABLES, "AWS_SESSION_TOKEN"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_CONFIG_FILE", nowhere)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", nowhere)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            client = boto3.client(
                "s3",
                endpoint_url=endpoint,
                aws_access_key_id=S3_KEY,
                aws_secret_access_key=S3_SECRET,
                region_name=S3_REGION,
            )
            client.create_bucket(Bucket=S3_BUCKET)
            storage_options = {
                "key": S3_KEY,
                "secret": S3_SECRET,
                "client_kwargs": {"endpoint_url": endpoint, "region_name": S3_REGION},
                "skip_instance_cache": True,
                "use_listings_cache": False,
            }
            yield endpoint, S3_BUCKET, storage_options
        finally:
            server.stop()
