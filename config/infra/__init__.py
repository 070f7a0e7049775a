"""The infrastructure every layer stands on: the Redis connection, encryption at rest, signed links, logs, metrics."""
