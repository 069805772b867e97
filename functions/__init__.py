"""Lambda function sources. Each sub-package is bundled at the root of its function's zip."""
