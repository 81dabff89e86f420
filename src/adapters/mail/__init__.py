"""Notifier adapters: real SMTP delivery, and a console printer for development."""
