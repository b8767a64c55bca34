"""Subscribers and what they are sent: e-mail, webhooks, chat; deliveries made from events and sent by
the worker, durably and without floods."""
