"""Business writes: each service validates, then writes its rows and outbox rows atomically."""
