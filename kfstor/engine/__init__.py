"""Running an audit: loading checks, reading kfstor.yaml, and deciding statuses."""
