"""Clients for the outside systems (Jira, Confluence) and a local stand-in for both.

Nothing in this package imports okrbridge: connectors take and return plain data.
"""
