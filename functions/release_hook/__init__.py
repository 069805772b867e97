"""CodeDeploy's pre-traffic hook: smoke-tests a new version of the API function before any traffic reaches it."""
