"""Notification channels and the outbox that retries them."""
