"""The real adapters to the outside systems: Jira and Confluence.

Nothing in this package imports okrbridge: connectors take and return plain data.
"""
