"""Last of the applied stack's group: `local` destroys cleanly, and its remote state says so (the emulator itself is
stopped by the fixture after)."""

import json

from tools import stackctl

STATE_KEY = "serverless-app-local/terraform.tfstate"


def test_the_local_stack_destroys_cleanly(deployed):
    stackctl.destroy("local", capture=True)
    assert not deployed.client("lambda").list_functions()["Functions"]
    assert not deployed.client("apigateway").get_rest_apis()["items"]
    assert not deployed.client("firehose").list_delivery_streams()["DeliveryStreamNames"]
    state = deployed.client("s3").get_object(Bucket=deployed.bootstrap["state_bucket_name"], Key=STATE_KEY)
    assert json.loads(state["Body"].read())["resources"] == []
