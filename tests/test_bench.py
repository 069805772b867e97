"""What `make bench` reads out of Terraform's output: the resources an apply waited longest for."""

from tools.bench import slowest_resources

APPLY = """
aws_iam_role.function_role_2E3FB14F: Creation complete after 0s [id=serverless-app-local-api-exec]
aws_kms_key.key_F64E54E4: Still creating... [10s elapsed]
aws_kms_key.key_F64E54E4: Creation complete after 8s [id=9dda0ee3-85ca-4f63-8d35-460cca571670]
aws_lambda_function.function_679B3B5A: Creation complete after 6s [id=serverless-app-local-api]
aws_s3_bucket_versioning.log_archive_versioning_63C6C76E: Creation complete after 1s [id=b]
aws_s3_bucket_lifecycle_configuration.log_archive_lifecycle_1A2B3C4D: Creation complete after 1m5s [id=b]
aws_lambda_alias.function_alias_EDD52E86: Modifications complete after 2s [id=arn:aws:lambda:...:live]
"""


def test_the_slowest_resources_are_listed_slowest_first_from_two_seconds():
    assert slowest_resources(APPLY) == [
        "  65 s  aws_s3_bucket_lifecycle_configuration.log_archive_lifecycle_1A2B3C4D",
        "   8 s  aws_kms_key.key_F64E54E4",
        "   6 s  aws_lambda_function.function_679B3B5A",
        "   2 s  aws_lambda_alias.function_alias_EDD52E86",
    ]
