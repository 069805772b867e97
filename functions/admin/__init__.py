"""The admin route group: what operators of the account ask the deployed API (signed with SigV4)."""
