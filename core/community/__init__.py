"""Running a community: per-server settings, blocklist, quotas and costs, usage, history and forgetting.

Platform-neutral: adapters surface these; the data lives in the journal database.
"""
